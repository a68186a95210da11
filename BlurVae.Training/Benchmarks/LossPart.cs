using BlurVae.Training.Losses;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The loss alone (`--part loss`) on tensors of the step's shapes: the reconstruction term — the Wiener term of x and
/// x̂ with kernel k (forward, then backward into x̂ and k), or ½‖x − x̂‖² for --loss l2 — then the kernel fit
/// ‖x ∗ k′ − x̂‖² (forward, backward into k′), as the alternating step computes them but without the networks around
/// them. reference/pytorch/bench.py's loss part does the same transforms (it sums the two terms and shares one k). x, x̂ and the kernels are fixed seeded
/// tensors; their gradients are cleared after each pass so every pass does the same work.
/// </summary>
public sealed class LossPart
{
    private readonly double _wienerC;
    private readonly bool _wiener;

    public LossPart(BenchConfig config, IBackend backend, int seed = 1, double wienerC = WienerBlurLoss.DefaultC)
    {
        var rng = new Random(seed);
        int[] images = [config.Batch, config.ImageChannels, config.Side, config.Side];
        int[] kernels = [config.Batch, config.KernelSize * config.KernelSize];
        X = Tensor.Uniform(images, -1, 1, rng, DType.Float32, backend);
        XHat = Tensor.Uniform(images, -1, 1, rng, DType.Float32, backend);
        XHat.RequiresGrad = true;
        // Softmax of random logits: a positive, unit-sum kernel per image, as G_γ predicts.
        Kernel = Tensor.Randn(kernels, rng, DType.Float32, backend).Softmax().Reshape(config.Batch, config.KernelSize, config.KernelSize);
        Kernel.RequiresGrad = true;
        FitKernel = Kernel.Detach();
        FitKernel.RequiresGrad = true;
        _wienerC = wienerC;
        _wiener = config.Loss == Train.LossKind.Wiener;
    }

    public Tensor X { get; }
    public Tensor XHat { get; }
    public Tensor Kernel { get; }
    public Tensor FitKernel { get; }

    /// <summary>The two losses as the step builds them (the kernel fit sees x̂ detached, or <paramref name="fitXHat"/>).</summary>
    public (Tensor Wiener, Tensor Fit) Build(Tensor x, Tensor? fitXHat = null) =>
        (_wiener ? WienerBlurLoss.Compute(x, XHat, Kernel, _wienerC) : L2.Compute(x, XHat), BlurKernelFitLoss.Compute(x, fitXHat ?? XHat.Detach(), FitKernel));

    private static readonly IReconstructionLoss L2 = ReconstructionLoss.Create(ReconstructionLossKind.L2);

    /// <summary>One pass: both losses forward and backward. Returns their sum (reading it waits for the device).</summary>
    public double Run()
    {
        XHat.ZeroGrad();
        Kernel.ZeroGrad();
        FitKernel.ZeroGrad();
        var (reconstruction, fit) = Build(X);
        reconstruction.Backward();
        fit.Backward();
        return reconstruction.Item() + fit.Item();
    }
}
