namespace BlurVae.Tests.Train;

/// <summary>
/// The alternating step as a captured and replayed graph (StepGraphs) on the emulated device, whose capture records
/// the stream operations with their argument values and whose replay runs that recording: the same losses and
/// parameters as eager steps, bit for bit (the replay runs the same kernels on the same addresses' contents in the
/// same order); no host wait, allocation or upload inside a capture (each fails it loudly, and training goes on
/// eagerly); a replayed step counted as one graph launch.
/// </summary>
[TestFixture, Category("Training")]
public class CudaGraphStepTests
{
    private const int Steps = 4; // 2 eager, the capture (and its replay), 1 replay per phase

    private static TrainOptions Options(bool noGraph, int warmupEpochs = 0) => new()
    {
        Side = 16, Channels = [4, 8], Latent = 4, MlpHidden = 16, KernelSize = 5, BatchSize = 4, WarmupEpochs = warmupEpochs,
        Loss = LossKind.Wiener, NoCudaGraph = noGraph,
    };

    // Per step its own batch and noise (the static inputs must be refreshed), epochs 0 and 1 (with warmup 1: two phases).
    private static (List<double[]> Losses, float[] Parameters, Trainer Trainer, EmulatedDevice Device) Train(bool noGraph, int warmupEpochs = 0)
    {
        var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var trainer = new Trainer(Options(noGraph, warmupEpochs), channels: 1, side: 16, backend);
        var messages = new List<string>();
        trainer.Log = messages.Add;
        var rng = new Random(11);
        var losses = new List<double[]>();
        for (int i = 0; i < Steps * (warmupEpochs + 1); i++)
        {
            var x = Tensor.Uniform([4, 1, 16, 16], -1, 1, rng, backend: backend);
            var eps = Tensor.Randn([4, 4], rng, backend: backend);
            trainer.StepOnDevice(x, eps, epoch: i / Steps);
            // As train does: the batch goes back to the cache once stepped, so the cache holds what a capture needs.
            x.Release();
            eps.Release();
            losses.Add(trainer.TakeLossSums(i / Steps).Sums);
        }
        Assert.That(messages, Is.Empty, "no capture failed");
        var parameters = trainer.Vae.Parameters().Concat(trainer.Generator.Parameters()).SelectMany(p => p.ToFloatArray()).ToArray();
        return (losses, parameters, trainer, device);
    }

    [TestCase(0), TestCase(1)]
    public void ReplayedStepsEqualEagerStepsBitForBit(int warmupEpochs)
    {
        var eager = Train(noGraph: true, warmupEpochs);
        var graphs = Train(noGraph: false, warmupEpochs);
        Assert.Multiple(() =>
        {
            Assert.That(eager.Trainer.CapturedGraphs, Is.Zero);
            Assert.That(graphs.Trainer.CapturedGraphs, Is.EqualTo(warmupEpochs + 1), "one graph per phase (warm-up Σ⁻¹ = I, then Wiener)");
            for (int i = 0; i < eager.Losses.Count; i++)
                Assert.That(graphs.Losses[i], Is.EqualTo(eager.Losses[i]), $"losses of step {i + 1}");
            Assert.That(graphs.Parameters, Is.EqualTo(eager.Parameters), "parameters after the steps");
            Assert.That(graphs.Trainer.OptVae.StepCount, Is.EqualTo(eager.Trainer.OptVae.StepCount), "the host's Adam step count");
            Assert.That(graphs.Trainer.OptKernel.StepCount, Is.EqualTo(eager.Trainer.OptKernel.StepCount));
        });
    }

    [Test]
    public void AReplayedStepIsOneGraphLaunchWithoutHostWaitOrAllocation()
    {
        var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var trainer = new Trainer(Options(noGraph: false), channels: 1, side: 16, backend);
        var rng = new Random(2);
        var x = Tensor.Uniform([4, 1, 16, 16], -1, 1, rng, backend: backend);
        var eps = Tensor.Randn([4, 4], rng, backend: backend);
        for (int i = 0; i < StepGraphs.EagerStepsBeforeCapture + 1; i++) trainer.StepOnDevice(x, eps, 0); // eager, eager, capture + replay
        var before = device.Counts;
        long live = device.LiveAllocations;
        trainer.StepOnDevice(x, eps, 0);
        var step = device.Counts.Minus(before);
        Assert.Multiple(() =>
        {
            Assert.That(step.GraphLaunches, Is.EqualTo(1));
            Assert.That(step.GraphOperations, Is.GreaterThan(100), "the whole alternating step inside the graph");
            Assert.That(step.Launches + step.CublasCalls + step.CufftCalls + step.Memsets, Is.Zero, "nothing enqueued one by one");
            Assert.That(step.CopiesDeviceToDevice, Is.EqualTo(2), "the batch and the noise copied to the graph's static inputs");
            Assert.That(step.HostSyncs + step.Allocations + step.CopiesHostToDevice + step.CopiesDeviceToHost, Is.Zero);
            Assert.That(device.LiveAllocations, Is.EqualTo(live), "a replay holds no new buffer");
        });
    }

    [Test]
    public void AHostWaitInsideACaptureFailsItLoudly()
    {
        var device = new EmulatedDevice();
        using var y = device.Allocate(8);
        device.BeginCapture();
        var e = Assert.Throws<GraphCaptureException>(() => device.Download(y));
        device.AbortCapture();
        Assert.That(e!.Message, Does.Contain("download").IgnoreCase.And.Contain("capture"));
        device.BeginCapture();
        Assert.Throws<GraphCaptureException>(() => device.Allocate(1 << 20)); // no cached block of that size: a real allocation
        device.AbortCapture();
        device.BeginCapture();
        Assert.Throws<GraphCaptureException>(() => device.Upload(y, new float[8]));
        Assert.Throws<GraphCaptureException>(() => device.Synchronize());
        device.AbortCapture();
        Assert.That(device.IsCapturing, Is.False);
    }

    [Test]
    public void AStepThatCannotBeCapturedSaysSoOnceAndTrainsEagerly()
    {
        // A capture tried at the very first step finds an empty cache: its first real allocation fails it. One
        // message, then eager steps whose results equal a run without graphs (the abandoned capture's host counts
        // were taken back).
        var reference = Train(noGraph: true);
        var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var trainer = new Trainer(Options(noGraph: false), channels: 1, side: 16, backend) { EagerStepsBeforeCapture = 0 };
        var messages = new List<string>();
        trainer.Log = messages.Add;
        var rng = new Random(11);
        var losses = new List<double[]>();
        for (int i = 0; i < Steps; i++)
        {
            var x = Tensor.Uniform([4, 1, 16, 16], -1, 1, rng, backend: backend);
            var eps = Tensor.Randn([4, 4], rng, backend: backend);
            trainer.StepOnDevice(x, eps, epoch: 0);
            x.Release();
            eps.Release();
            losses.Add(trainer.TakeLossSums(0).Sums);
        }
        Assert.Multiple(() =>
        {
            Assert.That(messages, Has.Count.EqualTo(1));
            Assert.That(messages[0], Does.Contain("CUDA graphs off").And.Contain("allocation"));
            Assert.That(trainer.CapturedGraphs, Is.Zero);
            Assert.That(device.IsCapturing, Is.False);
            for (int i = 0; i < Steps; i++) Assert.That(losses[i], Is.EqualTo(reference.Losses[i]), $"losses of step {i + 1}");
            Assert.That(trainer.OptVae.StepCount, Is.EqualTo(Steps));
        });
    }
}
