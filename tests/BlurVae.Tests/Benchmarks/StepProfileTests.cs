using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Benchmarks;

/// <summary>
/// The stream-operation counts of GpuDevice and the recording device behind `blurvae profile`: exact for a known op
/// sequence, equal on the emulated device (the counting is the base class's), stable step after step, and moved by
/// a host read.
/// </summary>
[TestFixture, Category("Benchmarks")]
public class StepProfileTests
{
    private const int Elements = 1000; // 4 blocks of 256; 4000 bytes, a 4096-byte block of the caching allocator

    // Allocate two buffers (two zero-fills), one unary launch, one download (a host sync), both buffers freed.
    private static void KnownStep(DeviceBackend backend, bool extraRead)
    {
        using var x = backend.Allocate(DType.Float32, Elements);
        using var y = backend.Allocate(DType.Float32, Elements);
        backend.UnaryForward(UnaryOp.Tanh, y, x, 0);
        var host = new float[Elements];
        backend.Download(y, host);
        if (extraRead) backend.Download(x, host);
    }

    private static ProfileReport Profile(bool extraRead = false, int steps = 2)
    {
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        var backend = new RecordingBackend(device);
        return StepProfile.Measure(device, () => KnownStep(backend, extraRead), warmup: 1, steps, "known", "two buffers, tanh, a download");
    }

    [Test]
    public void KnownStepHasExactCounts()
    {
        var report = Profile();
        var c = report.Counts;
        Assert.Multiple(() =>
        {
            Assert.That(c.LaunchesByKernel, Is.EquivalentTo(new Dictionary<string, long> { ["unary_forward_kernel"] = 1 }));
            Assert.That(c.Launches, Is.EqualTo(1));
            Assert.That(c.Memsets, Is.EqualTo(2), "one zero-fill per Allocate");
            Assert.That(c.CopiesDeviceToHost, Is.EqualTo(1));
            Assert.That(c.HostSyncs, Is.EqualTo(1));
            Assert.That(c.CublasCalls + c.CufftCalls + c.CopiesDeviceToDevice + c.CopiesHostToDevice, Is.Zero);
            Assert.That(c.StreamOperations, Is.EqualTo(4));
            Assert.That(c.BufferRequests, Is.EqualTo(2));
            Assert.That(c.Allocations, Is.Zero, "after warm-up both blocks come from the cache");
            Assert.That(report.Stable, Is.True);
        });
        var launch = report.Step.Records.Single(r => r.Kind == StreamOpKind.Launch);
        Assert.Multiple(() =>
        {
            Assert.That((launch.Grid.X, launch.Grid.Y, launch.Grid.Z), Is.EqualTo((4u, 1u, 1u)));
            Assert.That(launch.ThreadsPerBlock, Is.EqualTo(256));
            Assert.That(launch.Bytes, Is.EqualTo(2 * 4096), "y and x, each to the end of its 512-byte-rounded block");
            Assert.That(report.UnderTwoWavesLaunches, Has.Count.EqualTo(1), "4 blocks on 132 SMs");
        });
    }

    [Test]
    public void FirstStepAllocatesAndLaterStepsReuse()
    {
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        var backend = new RecordingBackend(device);
        var report = StepProfile.Measure(device, () => KnownStep(backend, false), warmup: 0, steps: 2, "known", "");
        Assert.That(report.Steps[0].Counts.Allocations, Is.EqualTo(2));
        Assert.That(report.Steps[1].Counts.Allocations, Is.Zero);
        Assert.That(report.Stable, Is.False);
    }

    [Test]
    public void ExtraHostReadIncreasesHostSyncs()
    {
        var plain = Profile().Counts;
        var extra = Profile(extraRead: true).Counts;
        Assert.That(extra.HostSyncs, Is.EqualTo(plain.HostSyncs + 1));
        Assert.That(extra.StreamOperations, Is.EqualTo(plain.StreamOperations + 1));
    }

    [Test]
    public void EmulatedDeviceCountsTheSameOperations()
    {
        var emulated = new EmulatedBackend();
        var before = emulated.Device.Counts;
        KnownStep(emulated, extraRead: false);
        var c = emulated.Device.Counts.Minus(before);
        var recorded = Profile().Counts;
        Assert.Multiple(() =>
        {
            Assert.That(c.LaunchesByKernel, Is.EquivalentTo(recorded.LaunchesByKernel));
            Assert.That(c.StreamOperations, Is.EqualTo(recorded.StreamOperations));
            Assert.That(c.HostSyncs, Is.EqualTo(recorded.HostSyncs));
            Assert.That(c.Allocations, Is.EqualTo(2), "the emulated device has no cache: every Allocate is real");
        });
    }

    [Test]
    public void SynchronizeIsAHostSync()
    {
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        long before = device.Counts.HostSyncs;
        device.Synchronize();
        Assert.That(device.Counts.HostSyncs, Is.EqualTo(before + 1));
    }

    [Test]
    public void LaunchesAreCheckedAsOnTheDevice()
    {
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        using var y = device.Allocate(Elements);
        using var x = device.Allocate(Elements);
        var grid = new BlurVae.Native.Dim3(4);
        Assert.Multiple(() =>
        {
            Assert.That(Error(() => device.Launch("no_such_kernel", grid, new(256), y, x)), Is.EqualTo(HostLaunchError.UnknownKernel));
            Assert.That(Error(() => device.Launch("axpby_kernel", grid, new(2048), y, x, Elements, 0.1f, 1f)), Is.EqualTo(HostLaunchError.InvalidConfiguration));
            Assert.That(Error(() => device.Launch("axpby_kernel", grid, new(256), y, x, Elements, 0.1f)), Is.EqualTo(HostLaunchError.BadArguments));
            Assert.That(Error(() => device.Launch("axpby_kernel", grid, new(256), y, x, 0.1f, 0.1f, 1f)), Is.Null,
                "an int and a float have the same size: the check is by size, as on the device");
            Assert.That(Error(() => device.Launch("axpby_kernel", grid, new(256), y, 5, Elements, 0.1f, 1f)), Is.EqualTo(HostLaunchError.BadArguments));
        });
        Assert.That(device.Counts.Launches, Is.EqualTo(1), "a refused launch is never queued, so not counted");
    }

    private static HostLaunchError? Error(TestDelegate launch)
    {
        try
        {
            launch();
            return null;
        }
        catch (EmulatedLaunchException e)
        {
            return e.Error;
        }
    }

    [Test]
    public void TrainingStepHostReadIsCounted()
    {
        // A tiny configuration of the real alternating step, as train and bench run it (StepOnDevice: the losses stay on
        // the device, so no host sync), plus a deliberate read of one value, which must count as exactly one. Two warm-up
        // steps: the second still allocates, since the first step's parameter gradients live until its ZeroGrad.
        var config = new BenchConfig("tiny", 2, 1, 16, [4, 8], 4, 5, MlpHidden: 8);
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        var runner = new OursRunner(config, new RecordingBackend(device), cudaGraph: false);
        var plain = StepProfile.Measure(device, runner.Step, 2, 2, config.Name, "");
        var withRead = StepProfile.Measure(device, () =>
        {
            runner.Step();
            using var _ = GradMode.NoGrad();
            runner.Trainer.Generator.Parameters().First().Sum().Item();
        }, 2, 2, config.Name, "");
        Assert.Multiple(() =>
        {
            Assert.That(plain.Stable, Is.True, string.Join("; ", plain.Steps.Select(s => s.Counts)));
            Assert.That(withRead.Stable, Is.True, string.Join("; ", withRead.Steps.Select(s => s.Counts)));
            // The step reads nothing back; its only uploads are the batch and the noise, asynchronous (the Adam
            // addresses travel in the launch parameters, the FFT column weights are uploaded once).
            Assert.That(plain.Counts.HostSyncs, Is.Zero, "StepOnDevice reads nothing back");
            Assert.That(plain.Counts.CopiesHostToDevice, Is.EqualTo(2), "the batch and the noise");
            Assert.That(plain.Step.Records.Count(r => r.Name == "memcpy HtoD"), Is.EqualTo(2), "recorded as copies");
            Assert.That(withRead.Counts.HostSyncs, Is.EqualTo(plain.Counts.HostSyncs + 1));
            Assert.That(plain.Counts.Allocations, Is.Zero);
            Assert.That(plain.Counts.LaunchesByKernel.Keys, Has.Some.StartsWith("conv2d_forward_"));
        });
        // The per-launch FLOP estimate (convolutions, cuBLAS, cuFFT) against the autograd graph's count of the same step:
        // a renamed or re-laid-out convolution kernel that the estimate no longer recognises fails here.
        double graph = runner.CountFlops("step").Total.Total;
        Assert.That(plain.Flops, Is.EqualTo(graph).Within(3).Percent, $"recorded {plain.Flops:E3}, graph {graph:E3}");
    }

    [Test]
    public void AReplayedStepIsOneGraphLaunchHoldingTheEagerStepsOperations()
    {
        var config = new BenchConfig("tiny", 2, 1, 16, [4, 8], 4, 5, MlpHidden: 8);
        var eager = StepProfile.Run(config, GpuSpec.H100Sxm, warmup: 3, steps: 2, cudaGraph: false).Counts;
        var graph = StepProfile.Run(config, GpuSpec.H100Sxm, warmup: 3, steps: 2, cudaGraph: true);
        var c = graph.Counts;
        Assert.Multiple(() =>
        {
            Assert.That(graph.Stable, Is.True);
            Assert.That(c.GraphLaunches, Is.EqualTo(1));
            // Enqueued one by one: the batch and noise uploads, and their copies into the graph's static inputs.
            Assert.That(c.StreamOperations, Is.EqualTo(4));
            Assert.That((c.CopiesHostToDevice, c.CopiesDeviceToDevice), Is.EqualTo((2L, 2L)));
            Assert.That(c.GraphOperations, Is.EqualTo(eager.StreamOperations - 2), "the eager step's operations, its two uploads aside");
            Assert.That(c.HostSyncs + c.Allocations, Is.Zero);
            Assert.That(graph.ToJson()["graph_launches"]!.GetValue<long>(), Is.EqualTo(1));
            Assert.That(graph.Flops, Is.EqualTo(StepProfile.Run(config, GpuSpec.H100Sxm, 3, 1).Flops), "the replay's recorded operations carry the step's FLOPs");
        });
    }

    [Test]
    public void JsonHasIntegerCounts()
    {
        var json = Profile().ToJson();
        foreach (var field in new[] { "stream_operations", "launches", "memsets", "host_syncs", "allocations", "cublas_calls", "cufft_calls", "copies", "graph_launches", "graph_operations" })
        {
            Assert.That(json[field], Is.Not.Null, field);
            Assert.That(json[field]!.GetValueKind(), Is.EqualTo(System.Text.Json.JsonValueKind.Number), field);
            Assert.That(json[field]!.AsValue().TryGetValue<long>(out _), Is.True, field);
        }
        Assert.That(json["stream_operations"]!.GetValue<long>(), Is.EqualTo(4));
        Assert.That(json["launches_by_kernel"]!["unary_forward_kernel"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(json["roofline"]!["estimate"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void ProfileCommandWritesJson()
    {
        string path = Path.Combine(Path.GetTempPath(), $"blurvae-profile-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, err) = Invoke("profile", "--config", "fashion32", "--warmup", "1", "--steps", "1", "--json", path);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("stream operations").And.Contain("roofline lower bound").And.Contain("an estimate"));
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            Assert.That(json["launches"]!.GetValue<long>(), Is.GreaterThan(0));
            Assert.That(json["config"]!.GetValue<string>(), Is.EqualTo("fashion32"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("--gpu", "v100")]
    [TestCase("--config", "mnist")]
    [TestCase("--steps", "0")]
    [TestCase("--warmup", "-1")]
    public void BadFlagIsAnErrorNamingIt(string flag, string value)
    {
        var (code, _, err) = Invoke("profile", flag, value);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain(flag));
    }
}
