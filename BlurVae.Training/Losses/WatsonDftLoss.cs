
namespace BlurVae.Training.Losses;

/// <summary>
/// The Watson-DFT perceptual loss of Czolbe et al. (NeurIPS 2020), with the learned parameters of the paper, as a VAE
/// reconstruction loss. Compute(x, xHat) takes [N, C, H, W] in [−1, 1] (mapped to [0, 1], the range the parameters
/// were trained on), C = 1 for the grayscale model and C = 3 for the colour model, H and W multiples of 8.
/// <para>
/// Reduction: the mean over the batch of the per-image distance D(x̂ₙ, xₙ). The reference's default
/// reduction='sum' is N times this value (see <see cref="PerSampleDistances"/> for reduction='none'); the reference's
/// luminance masking normalises by the mean DC amplitude of the whole target batch, and so does this.
/// </para>
/// <para>
/// With RandomShift (the reference's default, deterministic=False) both images are replicate-padded by 4 pixels and
/// cropped back to H×W at a random offset of 0–7 pixels per axis, drawn from a seeded System.Random once per Compute
/// call and shared by the whole batch, so the 8×8 block grid moves between calls. Without it the loss is
/// deterministic.
/// </para>
/// </summary>
public sealed class WatsonDftLoss : IReconstructionLoss
{
    /// <summary>The reference pads by MaxShift / 2 and shifts by 0 … MaxShift − 1.</summary>
    public const int MaxShift = 8;

    private readonly WatsonParameters? _gray;
    private readonly WatsonColorParameters? _color;
    private readonly Random? _shiftRng;

    private WatsonDftLoss(WatsonParameters? gray, WatsonColorParameters? color, bool randomShift, int seed)
    {
        _gray = gray;
        _color = color;
        _shiftRng = randomShift ? new Random(seed) : null;
    }

    /// <summary>The grayscale model (inputs with C = 1); the paper's learned parameters unless others are given.</summary>
    public static WatsonDftLoss Grayscale(WatsonParameters? parameters = null, bool randomShift = true, int seed = 0) =>
        new(parameters ?? WatsonParameters.LoadGrayscale(), null, randomShift, seed);

    /// <summary>The colour model (inputs with C = 3); the paper's learned parameters unless others are given.</summary>
    public static WatsonDftLoss Color(WatsonColorParameters? parameters = null, bool randomShift = true, int seed = 0) =>
        new(null, parameters ?? WatsonColorParameters.LoadDefault(), randomShift, seed);

    /// <summary>The reference's initial parameters (t̃ = 0, α = 0.1, w = 0.2, β = 1, w̃_phase = −2; standard YCbCr).</summary>
    public static WatsonDftLoss Untrained(bool grayscale, bool randomShift = true, int seed = 0) =>
        grayscale ? Grayscale(WatsonParameters.Untrained(), randomShift, seed) : Color(WatsonColorParameters.Untrained(), randomShift, seed);

    /// <summary>The model for C channels: the learned grayscale one for 1, the learned colour one for 3.</summary>
    public static WatsonDftLoss ForChannels(int channels, bool randomShift = true, int seed = 0) => channels switch
    {
        1 => Grayscale(null, randomShift, seed),
        3 => Color(null, randomShift, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "Watson-DFT has a grayscale (1 channel) and a colour (3 channel) model."),
    };

    public string Name => "watson-dft";

    /// <summary>1 for the grayscale model, 3 for the colour model.</summary>
    public int Channels => _gray is not null ? 1 : 3;

    /// <summary>Whether each Compute call shifts the block grid by a random 0–7 pixels (the reference's default).</summary>
    public bool RandomShift => _shiftRng is not null;

    public WatsonParameters? GrayscaleParameters => _gray;

    public WatsonColorParameters? ColorParameters => _color;

    /// <summary>The mean over the batch of the per-image Watson-DFT distance; a scalar, differentiable in both inputs.</summary>
    public Tensor Compute(Tensor x, Tensor xHat) => PerSampleDistances(x, xHat).Mean();

    /// <summary>The per-image distances D(x̂ₙ, xₙ), [N] (the reference's reduction='none').</summary>
    public Tensor PerSampleDistances(Tensor x, Tensor xHat)
    {
        Validate(x, xHat);
        var target = (x + 1.0) * 0.5;
        var input = (xHat + 1.0) * 0.5;
        if (_shiftRng is not null)
        {
            // Same draw order as the reference: the row offset, then the column offset.
            int dy = _shiftRng.Next(MaxShift), dx = _shiftRng.Next(MaxShift);
            target = Shift(target, dy, dx);
            input = Shift(input, dy, dx);
        }
        return _gray is not null ? WatsonDftChannel.Distances(target, input, _gray) : ColorDistances(target, input, _color!);
    }

    /// <summary>Replicate-pads by MaxShift/2 and crops H×W starting at (dy, dx) of the padded image.</summary>
    private static Tensor Shift(Tensor image, int dy, int dx)
    {
        int h = image.Shape[2], w = image.Shape[3], pad = MaxShift / 2;
        return ReplicatePad2dFunction.Forward(image, pad, pad, pad, pad).Narrow(2, dy, h).Narrow(3, dx, w);
    }

    private static Tensor ColorDistances(Tensor target, Tensor input, WatsonColorParameters p)
    {
        var transform = p.Transform;
        var bias = p.Bias;
        var weights = p.ChannelWeights;
        var rgb0 = target.Chunk(3, 1);
        var rgb1 = input.Chunk(3, 1);
        Tensor? total = null;
        for (int c = 0; c < 3; c++)
        {
            var ycc0 = ToYcc(rgb0, transform, bias, c);
            var ycc1 = ToYcc(rgb1, transform, bias, c);
            var d = WatsonDftChannel.Distances(ycc0, ycc1, p.Channel(c)) * weights[c];
            total = total is null ? d : total + d;
        }
        return total!;
    }

    // One channel of the learned colour transform: Σ_k rgb_k · T[k, c] + bias_c.
    private static Tensor ToYcc(Tensor[] rgb, double[,] transform, double[] bias, int c) =>
        rgb[0] * transform[0, c] + rgb[1] * transform[1, c] + rgb[2] * transform[2, c] + bias[c];

    private void Validate(Tensor x, Tensor xHat)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xHat);
        if (x.Rank != 4) throw new ArgumentException($"Watson-DFT expects x as [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (!x.Shape.AsSpan().SequenceEqual(xHat.Shape))
            throw new ArgumentException($"Watson-DFT needs x and xHat of one shape, got {Tensor.ShapeString(x.Shape)} and {Tensor.ShapeString(xHat.Shape)}.", nameof(xHat));
        if (x.DType != xHat.DType) throw new ArgumentException($"Watson-DFT of a {x.DType} x and a {xHat.DType} xHat; convert one with To().", nameof(xHat));
        if (x.Shape[0] < 1) throw new ArgumentException($"Watson-DFT of an empty batch {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (x.Shape[1] != Channels)
            throw new ArgumentException($"This Watson-DFT loss is the {(Channels == 1 ? "grayscale" : "colour")} model and needs C = {Channels}, got {Tensor.ShapeString(x.Shape)}; use WatsonDftLoss.ForChannels({x.Shape[1]}) for the other model.", nameof(x));
        int b = (_gray ?? _color!.Y).BlockSize;
        if (_color is not null && (_color.Cb.BlockSize != b || _color.Cr.BlockSize != b))
            throw new InvalidOperationException("The Y, Cb and Cr models of the colour Watson-DFT loss have different block sizes.");
        if (x.Shape[2] % b != 0 || x.Shape[3] % b != 0 || x.Shape[2] == 0 || x.Shape[3] == 0)
            throw new ArgumentException($"Watson-DFT works on {b}×{b} blocks and needs H and W to be positive multiples of {b}, got {Tensor.ShapeString(x.Shape)} (pad the images, e.g. 28 → 32).", nameof(x));
    }
}
