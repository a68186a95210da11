
namespace BlurVae.Training.Losses;

/// <summary>
/// Focal frequency loss (Jiang et al., ICCV 2021), as in the authors' reference with its defaults (one patch,
/// per-image weights, no log, no batch averaging of spectra):
/// <list type="number">
/// <item>ΔF = F(x̂) − F(x), the full complex 2-D DFT with orthonormal scaling, per image and channel;</item>
/// <item>weight w = |ΔF|^α divided by its maximum over the H×W spectrum of that image and channel; NaN (an
/// all-zero error) → 0; clamped to [0, 1]; DETACHED, so it only scales the gradient;</item>
/// <item>loss = mean(w·|ΔF|²) over N·C·H·W: the reference's mean reduction, unlike the sum-per-image losses here.</item>
/// </list>
/// The full spectrum is taken from Rfft2's half: |ΔF| is equal at the conjugate bins f and −f, so the weight is
/// too, and the interior columns count twice; a caller-supplied matrix is folded onto the half spectrum the same
/// way (w_f + w_−f). The official autoencoder setting trains on mean-MSE + 100·FFL;
/// <see cref="ReconstructionLoss"/> keeps that ratio under this library's reduction:
/// L2Loss + weight·(C·H·W/2)·FFL (the factor C·H·W/2 turns mean-MSE into ½‖x − x̂‖² per image).
/// </summary>
public static class FocalFrequencyLoss
{
    /// <summary>The reference's default exponent α of the spectrum weight.</summary>
    public const double DefaultAlpha = 1.0;

    /// <summary>The weight on FFL (against mean-MSE with weight 1) in the reference's autoencoder experiments.</summary>
    public const double ReferenceWeight = 100.0;

    private const string Name = "FocalFrequencyLoss";

    /// <summary>mean over N·C·H·W of w·|F(x̂) − F(x)|²; differentiable in x and x̂ (w detached).</summary>
    /// <param name="x">Target images [N, C, H, W].</param>
    /// <param name="xHat">Reconstructions, same shape and dtype.</param>
    /// <param name="alpha">Exponent α ≥ 0 of the focal weight |ΔF|^α.</param>
    /// <param name="matrix">Optional predefined spectrum weights [N, C, H, W] in [0, 1] over the full spectrum
    /// (fft2 order, unshifted), used instead of the online weight, as the reference's `matrix` argument.</param>
    public static Tensor Compute(Tensor x, Tensor xHat, double alpha = DefaultAlpha, Tensor? matrix = null)
    {
        LossArguments.CheckImages(Name, x, xHat);
        LossArguments.CheckNonNegative(Name, alpha, nameof(alpha));
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var spectrum = (xHat - x).Rfft2(FftNorm.Ortho);                        // ΔF, [N, C, H, W/2+1, 2]
        var distance = HalfSpectrum.AbsSquared(spectrum);                       // |ΔF|², [N, C, H, W/2+1]
        var weight = matrix is null ? FocalWeight(spectrum.Detach(), alpha, w) : FoldMatrix(matrix, x);
        return (distance * weight).Sum() * (1.0 / ((double)n * c * h * w));
    }

    // The online weight with the column multiplicity folded in (IBackend.FocalFrequencyWeight: one kernel on a GPU,
    // no host round trip), computed outside the graph: it is detached.
    private static Tensor FocalWeight(Tensor spectrum, double alpha, int w)
    {
        int h = spectrum.Shape[^3], cols = spectrum.Shape[^2], planes = spectrum.Shape[0] * spectrum.Shape[1];
        var weight = Tensor.Zeros([spectrum.Shape[0], spectrum.Shape[1], h, cols], spectrum.DType, spectrum.Backend);
        spectrum.Backend.FocalFrequencyWeight(weight.Buffer, spectrum.Buffer, planes, h, w, alpha);
        return weight;
    }

    // A full-spectrum matrix folded onto the half spectrum: interior bin (u, v) also stands for (−u, −v) = (H − u, W − v).
    private static Tensor FoldMatrix(Tensor matrix, Tensor x)
    {
        if (!matrix.Shape.AsSpan().SequenceEqual(x.Shape))
            throw new ArgumentException($"{Name}: the spectrum weight matrix must be [N, C, H, W] = {Tensor.ShapeString(x.Shape)} like the images, got {Tensor.ShapeString(matrix.Shape)}.", nameof(matrix));
        var m = matrix.ToDoubleArray();
        foreach (var value in m)
            if (!(value >= 0 && value <= 1))
                throw new ArgumentOutOfRangeException(nameof(matrix), value, $"{Name}: spectrum weights must lie in [0, 1] (as the reference asserts).");
        int h = x.Shape[2], w = x.Shape[3], cols = w / 2 + 1, planes = x.Shape[0] * x.Shape[1];
        var folded = new double[planes * h * cols];
        for (int p = 0; p < planes; p++)
            for (int u = 0; u < h; u++)
                for (int v = 0; v < cols; v++)
                {
                    double value = m[(p * h + u) * w + v];
                    if (ShapeRules.IsInteriorColumn(v, w)) value += m[(p * h + (h - u) % h) * w + (w - v)];
                    folded[(p * h + u) * cols + v] = value;
                }
        return Tensor.FromArray(folded, [x.Shape[0], x.Shape[1], h, cols], x.DType, x.Backend);
    }
}
