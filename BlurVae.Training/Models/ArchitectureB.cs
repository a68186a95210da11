using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Models;

/// <summary>
/// The paper's second architecture (appendix A, table 4). Encoder: five blocks Conv2d(k3, s2, p1) → BatchNorm2d →
/// LeakyReLU(0.2) with channels [32, 64, 128, 256, 512], then one Linear(C·s², 2·latent) split into μ and log σ².
/// Decoder: Linear(latent, C·s²), reshape, five blocks UpsampleBilinear2x → Conv2d(k3, s1, p1) → BatchNorm2d →
/// LeakyReLU(0.2) with the channels reversed (the last block keeps its width), then Conv2d(k3, s1, p1) and tanh.
/// </summary>
public sealed class ArchitectureB : VaeModel
{
    public static readonly int[] DefaultChannelList = [32, 64, 128, 256, 512];

    /// <summary>The default channel list times the --width multiplier.</summary>
    public static int[] DefaultChannels(double width) => DefaultChannelList.Select(c => Math.Max(1, (int)Math.Round(c * width))).ToArray();

    private readonly Sequential _encoder, _decoder;
    private readonly Linear _toStats, _fromLatent;
    private readonly int _bottleneckChannels, _bottleneckSide;

    public ArchitectureB(int imageChannels, int side, int latent, Random rng, int[]? channels = null,
                         DType dtype = DType.Float32, IBackend? backend = null)
        : base(imageChannels, side, latent)
    {
        channels ??= DefaultChannelList;
        if (channels.Length == 0 || channels.Any(c => c < 1)) throw new ArgumentException("--channels must list positive channel counts.");
        Log2Side(side);
        int blocks = channels.Length;
        if (side >> blocks < 1)
            throw new ArgumentException($"{blocks} stride-2 blocks do not fit a {side}×{side} input; use fewer --channels or a larger --side.");
        _bottleneckChannels = channels[^1];
        _bottleneckSide = side >> blocks;
        int flat = _bottleneckChannels * _bottleneckSide * _bottleneckSide;

        _encoder = RegisterModule("encoder", DownsamplingEncoder(imageChannels, channels, rng, dtype, backend));
        _toStats = RegisterModule("to_stats", new Linear(flat, 2 * latent, rng, dtype: dtype, backend: backend));
        _fromLatent = RegisterModule("from_latent", new Linear(latent, flat, rng, dtype: dtype, backend: backend));
        _decoder = RegisterModule("decoder", new Sequential());
        var reversed = channels.Reverse().ToArray();
        for (int i = 0; i < reversed.Length; i++)
        {
            int cout = i + 1 < reversed.Length ? reversed[i + 1] : reversed[i];
            _decoder.Add(new UpsampleBilinear2x());
            _decoder.Add(new Conv2d(reversed[i], cout, 3, rng, stride: 1, padding: 1, dtype: dtype, backend: backend));
            _decoder.Add(new BatchNorm2d(cout, dtype: dtype, backend: backend));
            _decoder.Add(new LeakyReLU(0.2));
        }
        _decoder.Add(new Conv2d(reversed[^1], imageChannels, 3, rng, stride: 1, padding: 1, dtype: dtype, backend: backend));
        _decoder.Add(new Tanh());
    }

    public override Tensor EncodeStatistics(Tensor x) => _toStats.Forward(_encoder.Forward(x).Flatten());

    public override Tensor Decode(Tensor z) =>
        _decoder.Forward(_fromLatent.Forward(z).Reshape(z.Shape[0], _bottleneckChannels, _bottleneckSide, _bottleneckSide));
}
