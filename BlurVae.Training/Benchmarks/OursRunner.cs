using System.Diagnostics;
using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Our side of one configuration: a <see cref="Trainer"/> built exactly as `blurvae train` builds it for the
/// configuration, a seeded random batch in [−1, 1] and reparameterisation noise, and the loss part's tensors.
/// The same batch is used for every step: the work of a step does not depend on the pixel values.
/// </summary>
public sealed class OursRunner
{
    private readonly Tensor _x, _eps;
    private readonly float[] _xHost, _epsHost;
    private readonly LossPart _loss;

    /// <param name="cudaGraph">On a device backend, replay the step as a captured CUDA graph once warmed up (train's default).</param>
    public OursRunner(BenchConfig config, IBackend backend, int seed = 1, bool cudaGraph = true)
    {
        Config = config;
        var options = config.ToTrainOptions(seed, cudaGraph);
        Trainer = new Trainer(options, config.ImageChannels, config.Side, backend);
        var rng = new Random(seed + 1);
        _x = Tensor.Uniform([config.Batch, config.ImageChannels, config.Side, config.Side], -1, 1, rng, Trainer.DType, backend);
        _eps = Tensor.Randn([config.Batch, config.Latent], rng, Trainer.DType, backend);
        _xHost = _x.ToFloatArray();
        _epsHost = _eps.ToFloatArray();
        _loss = new LossPart(config, backend, seed, options.WienerC);
    }

    public BenchConfig Config { get; }
    public Trainer Trainer { get; }

    /// <summary>The FLOPs of the part, counted from the graphs it builds.</summary>
    public PartFlops CountFlops(string part) => part == "step" ? StepFlops.Step(Trainer, _x, _eps) : StepFlops.Loss(_loss);

    /// <summary>
    /// One alternating training step on the fixed batch and noise, as `train` runs it: the batch and the noise are
    /// uploaded from the host first (on a GPU an asynchronous copy from pinned memory each, not a host wait), and the
    /// losses stay summed on the backend, read once per epoch there, so the step itself never waits for a host read.
    /// </summary>
    public void Step()
    {
        Trainer.Backend.Upload(_x.Buffer, _xHost);
        Trainer.Backend.Upload(_eps.Buffer, _epsHost);
        Trainer.StepOnDevice(_x, _eps, epoch: 0);
    }

    /// <summary>
    /// One repeat: <paramref name="warmup"/> untimed passes, then <paramref name="steps"/> timed ones; ms of each, the
    /// process's peak working set (MiB) during the timed ones (null where the OS cannot tell), and the allocation, GC
    /// and threading counters over the timed ones (<see cref="StepCounters"/>, read outside the timed steps).
    /// </summary>
    public (List<double> StepMs, double? PeakWorkingSetMib, StepCounters Counters) Repeat(string part, int warmup, int steps)
    {
        Action pass = part switch
        {
            "step" => Step,
            "loss" => () => _loss.Run(),
            _ => throw new ArgumentException($"--part must be step, loss or all (got '{part}')."),
        };
        for (int i = 0; i < warmup; i++) pass();
        Synchronize();
        bool peakReset = PeakMemory.Reset();
        var times = new List<double>(steps);
        var counters = StepCounters.Read(contextSwitches: true);
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            pass();
            // A step ends with the G_γ optimiser's update, which a GPU backend may still be running: wait for it,
            // so each step's time covers its own work and nothing of it leaks into the next.
            Synchronize();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        var counted = StepCounters.Read(contextSwitches: true).Since(counters);
        return (times, peakReset ? PeakMemory.ReadMib() : null, counted);
    }

    /// <summary>Reads one value of the last-updated parameters back to the host, which waits for queued device work.</summary>
    private void Synchronize()
    {
        using var _ = GradMode.NoGrad();
        Trainer.Generator.Parameters().First().Narrow(0, 0, 1).Sum().Item();
    }
}
