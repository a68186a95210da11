using BlurVae.Training.Engine.Distributed;

namespace BlurVae.Training.Engine.Nn;

/// <summary>y = x·Wᵀ + b, W[out, in].</summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, Random rng, bool bias = true, DType dtype = DType.Float32, IBackend? backend = null)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentException($"Linear({inFeatures}, {outFeatures}): feature counts must be positive.");
        Weight = RegisterParameter("weight", Init.Uniform([outFeatures, inFeatures], inFeatures, rng, dtype, backend));
        Bias = bias ? RegisterParameter("bias", Init.Uniform([outFeatures], inFeatures, rng, dtype, backend)) : null;
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) => Functional.Linear(x, Weight, Bias);

    /// <summary>activation(Forward(x)) as one op (Functional.LinearActivation): Relu, LeakyRelu with slope alpha ≥ 0, or
    /// Relu6. Sequential calls it for a Linear followed by one of those layers.</summary>
    public Tensor ForwardActivation(Tensor x, UnaryOp activation, double alpha = 0.0) => Functional.LinearActivation(x, Weight, Bias, activation, alpha);
}

/// <summary>2-D convolution, weight [out, in, kh, kw]; kernel, stride and padding square or per axis (H, W).</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, Random rng, int stride = 1, int padding = 0, bool bias = true, DType dtype = DType.Float32, IBackend? backend = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), rng, (stride, stride), (padding, padding), bias, dtype, backend)
    {
    }

    public Conv2d(int inChannels, int outChannels, (int H, int W) kernelSize, Random rng, (int H, int W) stride, (int H, int W) padding, bool bias = true, DType dtype = DType.Float32, IBackend? backend = null)
    {
        int fanIn = inChannels * kernelSize.H * kernelSize.W;
        Weight = RegisterParameter("weight", Init.Uniform([outChannels, inChannels, kernelSize.H, kernelSize.W], fanIn, rng, dtype, backend));
        Bias = bias ? RegisterParameter("bias", Init.Uniform([outChannels], fanIn, rng, dtype, backend)) : null;
        Stride = stride;
        Padding = padding;
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }

    public override Tensor Forward(Tensor x) => Functional.Conv2d(x, Weight, Bias, Stride, Padding);

    /// <summary>Forward that also writes the output's batch statistics into <paramref name="statistics"/> ([out, 2]): Sequential's Conv → BatchNorm fusion.</summary>
    public Tensor Forward(Tensor x, Tensor statistics) => Conv2dFunction.Forward(x, Weight, Bias, Stride, Padding, statistics);
}

/// <summary>Transposed 2-D convolution, weight [in, out, k, k] as in PyTorch.</summary>
public sealed class ConvTranspose2d : Module
{
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, Random rng, int stride = 1, int padding = 0, int outputPadding = 0, bool bias = true, DType dtype = DType.Float32, IBackend? backend = null)
    {
        // PyTorch computes fan-in from weight.size(1)·k² = out·k² for transposed convolutions.
        int fanIn = outChannels * kernelSize * kernelSize;
        Weight = RegisterParameter("weight", Init.Uniform([inChannels, outChannels, kernelSize, kernelSize], fanIn, rng, dtype, backend));
        Bias = bias ? RegisterParameter("bias", Init.Uniform([outChannels], fanIn, rng, dtype, backend)) : null;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int OutputPadding { get; }

    public override Tensor Forward(Tensor x) => Functional.ConvTranspose2d(x, Weight, Bias, Stride, Padding, OutputPadding);

    /// <summary>Forward that also writes the output's batch statistics into <paramref name="statistics"/> ([out, 2]): Sequential's Conv → BatchNorm fusion.</summary>
    public Tensor Forward(Tensor x, Tensor statistics) => ConvTranspose2dFunction.Forward(x, Weight, Bias, Stride, Padding, OutputPadding, statistics);
}

/// <summary>Batch normalisation over channel axis 1 of [N, C] (1-d) or [N, C, H, W] (2-d) inputs.</summary>
public class BatchNorm : Module
{
    private readonly int _expectedRank;

    protected BatchNorm(int channels, int expectedRank, double eps, double momentum, bool affine, DType dtype, IBackend? backend)
    {
        _expectedRank = expectedRank;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([channels], dtype, backend));
            Bias = RegisterParameter("bias", Tensor.Zeros([channels], dtype, backend));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([channels], dtype, backend));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([channels], dtype, backend));
    }

    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public double Eps { get; }
    public double Momentum { get; }

    /// <summary>Data-parallel training: normalise with the global batch's statistics over these ranks (--sync-bn); null = this process's batch.</summary>
    public ICollectives? Sync { get; set; }

    public override Tensor Forward(Tensor x) => Forward(x, null);

    /// <summary>Forward with the batch statistics of x precomputed ([C, 2], the convolution before it gathered them); null computes them.</summary>
    public Tensor Forward(Tensor x, Tensor? statistics)
    {
        CheckRank(x);
        if (Training && Sync is { WorldSize: > 1 } sync)
            return SyncBatchNorm.Forward(x, Weight, Bias, RunningMean, RunningVar, Momentum, Eps, sync);
        return Functional.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, Training, Momentum, Eps, statistics);
    }

    /// <summary>LeakyReLU(Forward(x)): one fused op in training (Functional.BatchNormLeakyRelu); Sequential calls it for
    /// the pair. Synchronised batch norm (--sync-bn) has no fused form: it runs the two ops one after the other.
    /// <paramref name="statistics"/> as <see cref="Forward(Tensor, Tensor?)"/>'s.</summary>
    public Tensor ForwardLeakyRelu(Tensor x, double negativeSlope, Tensor? statistics = null)
    {
        CheckRank(x);
        if (Training && Sync is { WorldSize: > 1 })
            return Forward(x).LeakyRelu(negativeSlope);
        return Functional.BatchNormLeakyRelu(x, RunningMean, RunningVar, Weight, Bias, Training, negativeSlope, Momentum, Eps, statistics);
    }

    /// <summary>Whether this layer takes a convolution's batch statistics: training on this process's batch alone.</summary>
    internal bool TakesStatistics => Training && Sync is not { WorldSize: > 1 };

    private void CheckRank(Tensor x)
    {
        if (x.Rank != _expectedRank && !(_expectedRank == 2 && x.Rank == 3))
            throw new ArgumentException($"{GetType().Name} expects rank-{_expectedRank} input, got {Tensor.ShapeString(x.Shape)}.", nameof(x));
    }
}

public sealed class BatchNorm1d(int features, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32, IBackend? backend = null)
    : BatchNorm(features, 2, eps, momentum, affine, dtype, backend);

public sealed class BatchNorm2d(int channels, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32, IBackend? backend = null)
    : BatchNorm(channels, 4, eps, momentum, affine, dtype, backend);

public sealed class LeakyReLU(double negativeSlope = 0.01) : Module
{
    public double NegativeSlope { get; } = negativeSlope;

    public override Tensor Forward(Tensor x) => x.LeakyRelu(NegativeSlope);
}

public sealed class ReLU : Module
{
    public override Tensor Forward(Tensor x) => x.Relu();
}

public sealed class ReLU6 : Module
{
    public override Tensor Forward(Tensor x) => x.Relu6();
}

public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor x) => x.Tanh();
}

public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor x) => x.Sigmoid();
}

/// <summary>nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False) on [N, C, H, W]: the bilinear resize to
/// 2H × 2W, which has exactly its taps, so it needs no op of its own.</summary>
public sealed class UpsampleBilinear2x : Module
{
    public override Tensor Forward(Tensor x) =>
        x.Rank == 4 ? x.ResizeBilinear(2 * x.Shape[2], 2 * x.Shape[3])
        : throw new ArgumentException($"Upsample expects [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
}

public sealed class Flatten(int startAxis = 1) : Module
{
    public override Tensor Forward(Tensor x) => x.Flatten(startAxis);
}

/// <summary>
/// Children applied in order; parameter names are their indices ("0.weight"). A BatchNorm directly followed by a
/// LeakyReLU (slope ≥ 0; the blocks of architectures A and B) runs as one fused op (BatchNorm.ForwardLeakyRelu),
/// and a Linear directly followed by a ReLU, ReLU6 or LeakyReLU (slope ≥ 0; the MLPs of architecture A) as one
/// Linear op with its activation (Linear.ForwardActivation), both layers keeping their places and names. In
/// training, a Conv2d or ConvTranspose2d directly followed by a BatchNorm gathers the BatchNorm's batch statistics
/// while its output is in cache (IBackend's conv `statistics`), and the BatchNorm takes them instead of computing
/// them (<see cref="FuseStatistics"/>). <see cref="FuseActivations"/> = false runs every layer on its own.
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public IReadOnlyList<Module> Layers => _layers;

    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>Whether the pairs above run fused (default); false runs every layer on its own.</summary>
    public bool FuseActivations { get; set; } = true;

    /// <summary>
    /// Whether, with <see cref="FuseActivations"/>, a convolution gathers the batch statistics of the BatchNorm after it
    /// (default). The statistics are merged from chunks of the output, so they round differently from the BatchNorm's
    /// own (float32: a few ulps); false keeps the fused blocks bit for bit equal to the layer-by-layer network.
    /// </summary>
    public bool FuseStatistics { get; set; } = true;

    /// <summary>The output channels of a convolution layer that can gather batch statistics; null for any other layer.</summary>
    private static int? ConvChannels(Module layer) => layer switch
    {
        Conv2d conv => conv.Weight.Shape[0],
        ConvTranspose2d convT => convT.Weight.Shape[1],
        _ => null,
    };

    /// <summary>The activation a Linear fuses when <paramref name="layer"/> follows it; null when it cannot.</summary>
    private static (UnaryOp Op, double Alpha)? FusedActivation(Module? layer) => layer switch
    {
        ReLU => (UnaryOp.Relu, 0.0),
        ReLU6 => (UnaryOp.Relu6, 0.0),
        LeakyReLU { NegativeSlope: >= 0 } act => (UnaryOp.LeakyRelu, act.NegativeSlope),
        _ => null,
    };

    public override Tensor Forward(Tensor x)
    {
        Tensor? statistics = null; // the batch statistics of x, when the convolution before gathered them
        for (int i = 0; i < _layers.Count; i++)
        {
            var next = i + 1 < _layers.Count ? _layers[i + 1] : null;
            if (FuseActivations && FuseStatistics && next is BatchNorm { TakesStatistics: true } && ConvChannels(_layers[i]) is int channels)
            {
                statistics = Tensor.Empty([channels, 2], x.DType, x.Backend);
                x = _layers[i] is Conv2d conv ? conv.Forward(x, statistics) : ((ConvTranspose2d)_layers[i]).Forward(x, statistics);
                continue;
            }
            var taken = statistics;
            statistics = null;
            if (FuseActivations && _layers[i] is BatchNorm bn && next is LeakyReLU act && act.NegativeSlope >= 0)
            {
                x = bn.ForwardLeakyRelu(x, act.NegativeSlope, taken);
                taken?.Release();
                i++;
                continue;
            }
            if (taken is not null)
            {
                x = ((BatchNorm)_layers[i]).Forward(x, taken);
                taken.Release();
                continue;
            }
            if (FuseActivations && _layers[i] is Linear linear && FusedActivation(next) is { } activation)
            {
                x = linear.ForwardActivation(x, activation.Op, activation.Alpha);
                i++;
                continue;
            }
            x = _layers[i].Forward(x);
        }
        return x;
    }
}
