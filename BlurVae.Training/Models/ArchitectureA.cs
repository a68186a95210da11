using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Models;

/// <summary>
/// The paper's main architecture (appendix A). Encoder: one block Conv2d(k3, s2, p1) → BatchNorm2d → LeakyReLU(0.2)
/// per entry of the channel list, then a two-layer MLP Linear(C·s², hidden) → LeakyReLU(0.2) → Linear(hidden, 2·latent)
/// split into μ and log σ². Decoder: Linear(latent, hidden) → LeakyReLU(0.2) → Linear(hidden, C·s²) → LeakyReLU(0.2),
/// reshape to [C, s, s], one block ConvTranspose2d(k4, s2, p1) → BatchNorm2d → LeakyReLU(0.2) per channel-list entry
/// (channels reversed; the last block keeps its width), then Conv2d(k3, s1, p1) to the image channels and tanh.
/// s = side / 2^blocks. The default channel list is [64, 128, 256, 512] cut or extended (repeating 512) to log2(side/4)
/// blocks, so a 64×64 input has four blocks and 256×256 six, as in the paper.
/// </summary>
public sealed class ArchitectureA : VaeModel
{
    private readonly Sequential _encoder, _encoderMlp, _decoderMlp, _decoder;
    private readonly int _bottleneckChannels, _bottleneckSide;

    public ArchitectureA(int imageChannels, int side, int latent, Random rng, int[]? channels = null, int mlpHidden = 512,
                         DType dtype = DType.Float32, IBackend? backend = null)
        : base(imageChannels, side, latent)
    {
        channels ??= DefaultChannels(side, 1.0);
        if (channels.Length == 0 || channels.Any(c => c < 1)) throw new ArgumentException("--channels must list positive channel counts.");
        int blocks = channels.Length;
        if (side >> blocks < 1 || side % (1 << blocks) != 0)
            throw new ArgumentException($"{blocks} stride-2 blocks do not divide a {side}×{side} input; use fewer --channels or a larger --side.");
        Log2Side(side);
        _bottleneckChannels = channels[^1];
        _bottleneckSide = side >> blocks;
        int flat = _bottleneckChannels * _bottleneckSide * _bottleneckSide;

        _encoder = RegisterModule("encoder", DownsamplingEncoder(imageChannels, channels, rng, dtype, backend));
        _encoderMlp = RegisterModule("encoder_mlp", new Sequential(
            new Linear(flat, mlpHidden, rng, dtype: dtype, backend: backend),
            new LeakyReLU(0.2),
            new Linear(mlpHidden, 2 * latent, rng, dtype: dtype, backend: backend)));

        _decoderMlp = RegisterModule("decoder_mlp", new Sequential(
            new Linear(latent, mlpHidden, rng, dtype: dtype, backend: backend),
            new LeakyReLU(0.2),
            new Linear(mlpHidden, flat, rng, dtype: dtype, backend: backend),
            new LeakyReLU(0.2)));
        _decoder = RegisterModule("decoder", new Sequential());
        var reversed = channels.Reverse().ToArray();
        for (int i = 0; i < reversed.Length; i++)
        {
            int cout = i + 1 < reversed.Length ? reversed[i + 1] : reversed[i];
            _decoder.Add(new ConvTranspose2d(reversed[i], cout, 4, rng, stride: 2, padding: 1, dtype: dtype, backend: backend));
            _decoder.Add(new BatchNorm2d(cout, dtype: dtype, backend: backend));
            _decoder.Add(new LeakyReLU(0.2));
        }
        _decoder.Add(new Conv2d(reversed[^1], imageChannels, 3, rng, stride: 1, padding: 1, dtype: dtype, backend: backend));
        _decoder.Add(new Tanh());
    }

    /// <summary>[64, 128, 256, 512]·width, cut or extended (repeating the last) to log2(side/4) blocks.</summary>
    public static int[] DefaultChannels(int side, double width)
    {
        int blocks = Math.Max(1, Log2Side(side) - 2);
        int[] baseList = [64, 128, 256, 512];
        return Enumerable.Range(0, blocks).Select(i => Math.Max(1, (int)Math.Round(baseList[Math.Min(i, 3)] * width))).ToArray();
    }

    public override Tensor EncodeStatistics(Tensor x) => _encoderMlp.Forward(_encoder.Forward(x).Flatten());

    public override Tensor Decode(Tensor z) =>
        _decoder.Forward(_decoderMlp.Forward(z).Reshape(z.Shape[0], _bottleneckChannels, _bottleneckSide, _bottleneckSide));
}
