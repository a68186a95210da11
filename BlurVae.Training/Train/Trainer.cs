using BlurVae.Training.Engine.Distributed;
using BlurVae.Training.Data;
using BlurVae.Training.Losses;
using BlurVae.Training.Models;
using BlurVae.Training.Engine.Optim;

namespace BlurVae.Training.Train;

/// <summary>The losses of one alternating iteration (per image: summed over pixels, averaged over the batch).</summary>
public readonly record struct StepResult(double Loss, double Reconstruction, double Kl, double BlurKernelFit, bool WienerActive);

/// <summary>A non-finite loss: training stops and the last good checkpoint stays in place.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>
/// The method's alternating optimisation (section 3.5). Each iteration:
/// (1) ELBO step on the VAE (θ, φ): reconstruction term + β·KL, where after the warm-up the reconstruction is the
///     Wiener-weighted error with k = G_γ(z) — the gradient reaches the encoder through k, but only the VAE's
///     optimiser steps, so γ is not updated by the ELBO;
/// (2) kernel step on G_γ: ‖x ∗ G_γ(z) − x̂‖² with z and x̂ detached.
/// During the first WarmupEpochs the reconstruction is plain ½‖x − x̂‖² (Σ⁻¹ = I) while G_γ already trains.
/// </summary>
public sealed class Trainer
{
    private readonly Lazy<IReconstructionLoss> _baseline;
    private readonly LossSums _lossSums;
    private StepGraphs? _graphs;
    private bool _graphsDecided;

    public Trainer(TrainOptions options, int channels, int side, IBackend? backend = null)
    {
        options.Validate();
        Options = options;
        Backend = backend ?? Tensor.DefaultBackend;
        DType = options.Dtype == "f64" ? DType.Float64 : DType.Float32;
        Channels = channels;
        Side = side;
        KernelSize = options.EffectiveKernelSize(side);
        if (KernelSize > side)
            throw new ArgumentException($"--kernel-size {KernelSize} is larger than the {side}×{side} images.");
        // One generator seeds every initialisation, so a seed fixes the whole run.
        var rng = new Random(options.Seed);
        int[]? list = options.Channels.Length > 0 ? options.Channels : null;
        Vae = options.Arch == Architecture.A
            ? new ArchitectureA(channels, side, options.Latent, rng, list ?? ArchitectureA.DefaultChannels(side, options.Width), options.MlpHidden, DType, Backend)
            : new ArchitectureB(channels, side, options.Latent, rng, list ?? ArchitectureB.DefaultChannels(options.Width), DType, Backend);
        Generator = new BlurKernelGenerator(options.Latent, KernelSize, rng, dtype: DType, backend: Backend);
        OptVae = new Adam(Vae.Parameters(), lr: options.Lr);
        OptKernel = new Adam(Generator.Parameters(), lr: options.LrKernel);
        _lossSums = new LossSums(Backend, DType, count: 4);
        // The Wiener term needs a kernel per image, so it is not an IReconstructionLoss; L2 doubles as its warm-up loss.
        // Built on first use, so eval, sample and reconstruct of a VGG-loss run do not need its weights file.
        _baseline = new(() => options.Loss switch
        {
            LossKind.Wiener or LossKind.L2 => ReconstructionLoss.Create(ReconstructionLossKind.L2),
            LossKind.L1 => ReconstructionLoss.Create(ReconstructionLossKind.L1),
            LossKind.Bce => ReconstructionLoss.Create(ReconstructionLossKind.Bce),
            LossKind.Ffl => ReconstructionLoss.Create(ReconstructionLossKind.FocalFrequency, focalFrequencyWeight: options.FflWeight),
            LossKind.Watson => ReconstructionLoss.Create(ReconstructionLossKind.WatsonDft, WatsonDftLoss.ForChannels(channels, randomShift: true, seed: options.Seed)),
            LossKind.Vgg => new VggPerceptualLoss(Perceptual.LpipsWeights.Load(options.VggWeights!, "--vgg-weights", DType, Backend, requiredVariant: "vgg")),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Loss, "unknown --loss"),
        });
    }

    public TrainOptions Options { get; }
    public IBackend Backend { get; }
    public DType DType { get; }
    public int Channels { get; }
    public int Side { get; }
    /// <summary>Side of the blur kernels (options.EffectiveKernelSize of the image side).</summary>
    public int KernelSize { get; }
    public VaeModel Vae { get; }
    public BlurKernelGenerator Generator { get; }
    /// <summary>Both networks, the VAE first: what a data-parallel run broadcasts and keeps in step.</summary>
    public IReadOnlyList<Engine.Nn.Module> Networks => [Vae, Generator];
    public Adam OptVae { get; }
    public Adam OptKernel { get; }

    /// <summary>
    /// Data-parallel training: before each optimiser step the gradients are averaged over these ranks (each rank's
    /// loss is the mean over its shard, so the mean of the ranks' gradients is the gradient of the global batch).
    /// </summary>
    public ICollectives Collectives { get; set; } = SingleProcess.Instance;

    /// <summary>Epochs completed (the next epoch to train has this index).</summary>
    public int Epoch { get; set; }

    /// <summary>The noise of the reparameterisation for one batch: drawn from a generator seeded by (seed, epoch), so a resumed epoch repeats exactly.</summary>
    public static Random NoiseFor(int seed, int epoch) => new(unchecked(seed * 7919 + epoch * 104729 + 17));

    /// <summary>Builds the reconstruction loss now (reading --vgg-weights), so that `train` stops on bad weights before its first step.</summary>
    public void PrepareLoss() => _ = _baseline.Value;

    public bool WienerActiveAt(int epoch) => Options.Loss == LossKind.Wiener && epoch >= Options.WarmupEpochs;

    /// <summary>The kernel the Wiener term uses for this batch: G_γ(z) (optionally detached) or the fixed Gaussian.</summary>
    public Tensor KernelFor(Tensor z)
    {
        if (Options.FixedSigma is double sigma)
            return BlurKernelGenerator.Gaussian(z.Shape[0], KernelSize, sigma, DType, Backend);
        return Generator.Forward(Options.DetachKernel ? z.Detach() : z);
    }

    /// <summary>One alternating iteration on batch x with reparameterisation noise eps, and its losses (read at once).</summary>
    public StepResult Step(Tensor x, Tensor eps, int epoch)
    {
        StepOnDevice(x, eps, epoch);
        var (sums, steps) = TakeLossSums(epoch);
        return new StepResult(sums[0] / steps, sums[1] / steps, sums[2] / steps, sums[3] / steps, WienerActiveAt(epoch));
    }

    /// <summary>Where the one message about CUDA graphs goes (their use, or why the step runs eagerly); the log of `train`.</summary>
    public Action<string> Log { get; set; } = _ => { };

    /// <summary>
    /// One alternating iteration whose losses are only added to sums on the backend: no host read inside the step,
    /// so a GPU never waits for the host. <see cref="TakeLossSums"/> reads them (once per epoch in `train`). On a
    /// device backend the step is a replayed CUDA graph once its phase's shapes are fixed (<see cref="StepGraphs"/>;
    /// off with --no-cuda-graph), with the same results.
    /// </summary>
    public void StepOnDevice(Tensor x, Tensor eps, int epoch)
    {
        if (Graphs() is { } graphs) graphs.Step(x, eps, epoch);
        else StepEagerly(x, eps, epoch);
    }

    /// <summary>Eager steps per phase before its capture (<see cref="StepGraphs.EagerStepsBeforeCapture"/>; tests lower it to make a capture fail).</summary>
    internal int EagerStepsBeforeCapture { get; init; } = StepGraphs.EagerStepsBeforeCapture;

    /// <summary>Graphs captured and alive (0 in eager mode).</summary>
    public int CapturedGraphs => _graphs?.Captured ?? 0;

    /// <summary>Discards the captured graphs (a checkpoint restore replaced tensors they point at); later steps capture again.</summary>
    public void DropGraphs() => _graphs?.Drop();

    // Decided at the first step, when the backend and the collectives are set.
    private StepGraphs? Graphs()
    {
        if (_graphsDecided) return _graphs;
        _graphsDecided = true;
        if (Options.NoCudaGraph) return null;
        if (StepGraphs.Unsupported(this) is { } reason)
        {
            if (Backend is Kernels.Device.DeviceBackend) Log($"CUDA graphs off: {reason}; the step runs eagerly.");
            return null;
        }
        return _graphs = new StepGraphs(this, ((Kernels.Device.DeviceBackend)Backend).Device, Log);
    }

    /// <summary>The host's step counters (optimisers, loss sums), to restore after an abandoned capture.</summary>
    internal (int Vae, int Kernel, int Sums) HostStepCounts() => (OptVae.StepCount, OptKernel.StepCount, _lossSums.Steps);

    internal void RestoreHostStepCounts((int Vae, int Kernel, int Sums) counts)
    {
        OptVae.AdvanceStepCount(counts.Vae - OptVae.StepCount);
        OptKernel.AdvanceStepCount(counts.Kernel - OptKernel.StepCount);
        _lossSums.AdvanceSteps(counts.Sums - _lossSums.Steps);
    }

    /// <summary>Counts a step a replayed graph ran: what the eager step's host code would have counted.</summary>
    internal void CountReplayedStep() => RestoreHostStepCounts((OptVae.StepCount + 1, OptKernel.StepCount + 1, _lossSums.Steps + 1));

    /// <summary>The alternating iteration, every operation enqueued by the host (and, inside a capture, recorded).</summary>
    internal void StepEagerly(Tensor x, Tensor eps, int epoch)
    {
        Vae.Train();
        Generator.Train();
        bool wiener = WienerActiveAt(epoch);

        // (1) ELBO step on θ, φ. γ is frozen for this step: the gradient still flows through G_γ into z (and the
        // encoder), but no gradient for γ is computed or kept, so the ELBO cannot move the kernel generator.
        OptVae.ZeroGrad();
        Tensor z, reconstructionData, elbo, reconstruction, kl;
        SetRequiresGrad(Generator, false);
        try
        {
            var output = Vae.Run(x, eps);
            // The kernel step reads z and x̂ after the ELBO's backward, which releases the graph's intermediates:
            // detached (so kept) here; so are the loss terms, which the sums read after the step.
            z = output.Z.Detach();
            reconstructionData = output.Reconstruction.Detach();
            reconstruction = ReconstructionTerm(x, output, wiener).Keep();
            kl = output.Kl.Keep();
            elbo = WeightedSumFunction.Forward([reconstruction, kl], [1.0, Options.Beta]); // one op each way
            PhaseEnded?.Invoke("ELBO forward");
            elbo.Backward();
            PhaseEnded?.Invoke("ELBO backward");
        }
        finally
        {
            SetRequiresGrad(Generator, true);
        }
        AverageGradients(Vae);
        OptVae.Step();
        PhaseEnded?.Invoke("VAE Adam");

        // (2) Kernel step on γ: fit x ∗ G_γ(z) to the (detached) reconstruction.
        OptKernel.ZeroGrad();
        var kernel = Generator.Forward(z);
        var fit = BlurKernelFitLoss.Compute(x, reconstructionData, kernel);
        fit.Backward();
        AverageGradients(Generator);
        OptKernel.Step();
        PhaseEnded?.Invoke("G_γ step (forward, backward, Adam)");
        _lossSums.Add([elbo, reconstruction, kl, fit]);
        // The step's own tensors that backward does not release (detached copies, loss values): nothing else
        // refers to them now, so they go back to the backend here rather than when a collection finds them.
        foreach (var t in (ReadOnlySpan<Tensor>)[z, reconstructionData, elbo, reconstruction, kl, fit]) t.Release();
    }

    /// <summary>
    /// Called with a phase's name as each phase of <see cref="StepOnDevice"/> ends (ELBO forward, ELBO backward, VAE
    /// Adam, the G_γ step): `BlurVae.Bench ops` times the phases with it; null (no call) everywhere else.
    /// </summary>
    public Action<string>? PhaseEnded { get; set; }

    /// <summary>The mean ELBO loss of the steps since the last <see cref="TakeLossSums"/> (a host read, for a live
    /// progress display only); NaN before the first step.</summary>
    public double RunningLoss() => _lossSums.Steps == 0 ? double.NaN : _lossSums.Peek(0) / _lossSums.Steps;

    /// <summary>
    /// The sums of (ELBO loss, reconstruction, KL, kernel fit) over the steps since the last call, read from the backend
    /// here (one read per logging interval), and the number of steps. A non-finite sum stops training: it throws
    /// <see cref="NonFiniteLossException"/> before anything (a checkpoint) is written from the diverged state.
    /// </summary>
    public (double[] Sums, int Steps) TakeLossSums(int epoch)
    {
        var (sums, steps) = _lossSums.Take();
        if (!double.IsFinite(sums[0]))
            throw new NonFiniteLossException($"The ELBO loss became {sums[0]} at epoch {epoch + 1} (summed over the last {steps} step(s): reconstruction {sums[1]}, KL {sums[2]}). " +
                                             "Training stopped; the last good checkpoint is kept. Try a smaller --lr or a larger --wiener-c.");
        if (!double.IsFinite(sums[3]))
            throw new NonFiniteLossException($"The kernel-fit loss became {sums[3]} at epoch {epoch + 1} (summed over the last {steps} step(s)). Training stopped; the last good checkpoint is kept.");
        return (sums, steps);
    }

    private void AverageGradients(Engine.Nn.Module module)
    {
        if (Collectives.WorldSize > 1)
            Collectives.AllReduce(module.Parameters().Where(p => p.Grad is not null).Select(p => p.Grad!).ToList(), average: true);
    }

    private static void SetRequiresGrad(Engine.Nn.Module module, bool value)
    {
        foreach (var p in module.Parameters()) p.RequiresGrad = value;
    }

    private Tensor ReconstructionTerm(Tensor x, VaeOutput output, bool wiener)
    {
        if (!wiener) return _baseline.Value.Compute(x, output.Reconstruction);
        var kernel = KernelFor(output.Z);
        var term = WienerBlurLoss.Compute(x, output.Reconstruction, kernel, Options.WienerC);
        // +½ log|Σ| of the Gaussian likelihood, with the paper's K + εI approximation; skipped for "large ε".
        if (Options.Eps is double eps)
            term = term + LogDeterminant.Compute(kernel, Channels, Side, Side, eps);
        return term;
    }
}
