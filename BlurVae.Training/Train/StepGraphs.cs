using BlurVae.Kernels.Device;

namespace BlurVae.Training.Train;

/// <summary>
/// The alternating step (ELBO update and G_γ update, both optimisers) as CUDA graphs: once a phase's shapes are
/// fixed, its step is captured once (GpuDevice.BeginCapture … EndCapture: cuStreamBeginCapture in relaxed mode,
/// cuGraphInstantiate) and every later step of the phase is one replay (cuGraphLaunch), so the host no longer
/// enqueues ~240 operations a step.
/// <para>
/// What a replay needs, and where it comes from:
/// - inputs at static device addresses: the batch and the reparameterisation noise are copied into this phase's
///   own tensors before each replay (two device copies); the Adam step counts live on the device
///   (advanced by adam_multi_tensor_kernel), the losses are summed into the trainer's persistent device sums;
/// - stable memory: every block the capture took stays reserved for the graph (GpuDevice's graph pool) while it
///   lives, so no other tensor is handed those addresses between replays;
/// - the host's own counters (Adam's step counts for checkpoints and bias corrections, the loss sums' step count)
///   are advanced by one per replay, as the eager step would have;
/// - persistent state is made by eager steps first: <see cref="EagerStepsBeforeCapture"/> per phase (the first
///   creates the Adam moments, cuFFT plans, the convolution choices and cached column weights; in the second, the
///   first step's gradients still live, so the cache grows once more), then the capture finds every block in the
///   cache.
/// </para>
/// <para>
/// Phases: a change of phase uses another graph — the warm-up (Σ⁻¹ = I) and the Wiener term are different steps,
/// so each gets its own capture after its own eager steps; so does another batch or noise shape (a last partial
/// batch, a data-parallel shard) or another learning rate (baked into the captured Adam launches). A checkpoint
/// restore replaces the Adam moments' tensors, so <see cref="Drop"/> discards every graph and the next steps run
/// eagerly and capture again. Eager mode throughout where a step cannot be captured: not a device backend, data
/// parallel (the collectives run on the host), Watson-DFT (a random shift drawn on the host each step) and
/// --fixed-sigma (its kernel is uploaded each step). When a capture fails (a host wait, a real allocation or an
/// upload inside the step), one message says why and the rest of the run is eager.
/// </para>
/// </summary>
internal sealed class StepGraphs(Trainer trainer, GpuDevice device, Action<string> log) : IDisposable
{
    public const int EagerStepsBeforeCapture = 2;

    private readonly record struct PhaseKey(bool Wiener, int Batch, int Latent, double LrVae, double LrKernel);

    private sealed class Phase
    {
        public int EagerSteps;
        public DeviceGraph? Graph;
        public Tensor? X, Eps;
    }

    private readonly Dictionary<PhaseKey, Phase> _phases = [];
    private bool _failed;

    /// <summary>Why the trainer's step cannot be captured, or null when it can.</summary>
    public static string? Unsupported(Trainer t)
    {
        if (t.Backend is not DeviceBackend) return "not a GPU backend";
        if (t.Collectives.WorldSize > 1) return "data-parallel training (the collectives run on the host)";
        if (t.Options.Loss == LossKind.Watson) return "--loss watson draws a random shift on the host each step";
        if (t.Options.FixedSigma is not null) return "--fixed-sigma uploads its kernel each step";
        return null;
    }

    /// <summary>Graphs captured and alive.</summary>
    public int Captured => _phases.Values.Count(p => p.Graph is not null);

    public void Step(Tensor x, Tensor eps, int epoch)
    {
        var key = new PhaseKey(trainer.WienerActiveAt(epoch), x.Shape[0], eps.Shape[^1], trainer.OptVae.LearningRate, trainer.OptKernel.LearningRate);
        if (!_phases.TryGetValue(key, out var phase)) _phases[key] = phase = new Phase();
        if (_failed && phase.Graph is null)
        {
            trainer.StepEagerly(x, eps, epoch);
            return;
        }
        // The eager warm-up steps run on the static inputs too, so they take from the cache exactly what the
        // captured step will: the capture then finds every block it needs there.
        Refresh(phase, x, eps);
        if (phase.Graph is null && phase.EagerSteps < trainer.EagerStepsBeforeCapture)
        {
            trainer.StepEagerly(phase.X!, phase.Eps!, epoch);
            phase.EagerSteps++;
            return;
        }
        if (phase.Graph is null)
        {
            if (!Capture(phase, epoch))
            {
                trainer.StepEagerly(x, eps, epoch);
                return;
            }
            device.Replay(phase.Graph!); // the capture only recorded; its host code already counted this step
            return;
        }
        device.Replay(phase.Graph);
        trainer.CountReplayedStep();
    }

    // The phase's static inputs (allocated outside any capture, so never in a graph's pool) take this step's values.
    private void Refresh(Phase phase, Tensor x, Tensor eps)
    {
        phase.X ??= Tensor.Zeros(x.Shape, x.DType, x.Backend).Keep();
        phase.Eps ??= Tensor.Zeros(eps.Shape, eps.DType, eps.Backend).Keep();
        trainer.Backend.Copy(phase.X.Buffer, x.Buffer);
        trainer.Backend.Copy(phase.Eps.Buffer, eps.Buffer);
    }

    // Records the step on the static inputs; the capture runs nothing, so the caller replays it at once.
    private bool Capture(Phase phase, int epoch)
    {
        var counts = trainer.HostStepCounts();
        device.BeginCapture();
        try
        {
            trainer.StepEagerly(phase.X!, phase.Eps!, epoch);
            phase.Graph = device.EndCapture();
            return true;
        }
        catch (GraphCaptureException e)
        {
            device.AbortCapture();
            trainer.RestoreHostStepCounts(counts);
            _failed = true;
            log($"CUDA graphs off: the step could not be captured ({e.Message}) Training continues eagerly; --no-cuda-graph skips the attempt.");
            return false;
        }
        catch
        {
            device.AbortCapture();
            throw;
        }
    }

    /// <summary>Discards every graph (a checkpoint restore replaced tensors the graphs point at); later steps capture again.</summary>
    public void Drop()
    {
        foreach (var phase in _phases.Values)
        {
            phase.Graph?.Dispose();
            phase.X?.Release();
            phase.Eps?.Release();
        }
        _phases.Clear();
    }

    public void Dispose() => Drop();
}
