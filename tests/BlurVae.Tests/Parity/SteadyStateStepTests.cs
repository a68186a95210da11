using System.Runtime;

namespace BlurVae.Tests.Parity;

/// <summary>
/// After the first steps, a training step on the emulated device allocates nothing new, leaves nothing behind and
/// never makes the host wait (0 host syncs, 0 uploads), without any garbage collection: the autograd returns the step's buffers to the caching
/// allocator itself, and the losses are summed on the device until <see cref="Trainer.TakeLossSums"/> reads them.
/// </summary>
[TestFixture, Category("Parity")]
public class SteadyStateStepTests
{
    [Test]
    public void SteadyStateStepsAllocateNothingAndReleaseEverythingWithoutAGarbageCollection()
    {
        using var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var options = new TrainOptions
        {
            Side = 16, Channels = [4, 8], Latent = 4, MlpHidden = 16, KernelSize = 5, BatchSize = 4, WarmupEpochs = 0, Loss = LossKind.Wiener,
        };
        var trainer = new Trainer(options, channels: 1, side: 16, backend);
        var rng = new Random(3);
        var x = Tensor.Uniform([4, 1, 16, 16], -1, 1, rng, backend: backend);
        var eps = Tensor.Randn([4, 4], rng, backend: backend);
        for (int i = 0; i < 2; i++) trainer.Step(x, eps, epoch: 0);

        // No collection may run while the steps are measured, so finalizers cannot be what returns the buffers.
        Assume.That(GC.TryStartNoGCRegion(200L << 20), Is.True, "the runtime refused a no-GC region");
        DeviceCounts before, after;
        long liveBefore, liveAfter;
        try
        {
            liveBefore = device.LiveAllocations;
            before = device.Counts;
            for (int i = 0; i < 3; i++) trainer.StepOnDevice(x, eps, epoch: 0);
            after = device.Counts;
            liveAfter = device.LiveAllocations;
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        var steps = after.Minus(before);
        var (sums, counted) = trainer.TakeLossSums(epoch: 0);
        Assert.Multiple(() =>
        {
            Assert.That(counted, Is.EqualTo(3), "steps summed on the device");
            Assert.That(sums.All(double.IsFinite) && sums[0] > 0, Is.True, $"loss sums {string.Join(", ", sums)}");
            Assert.That(steps.Allocations, Is.Zero, "real allocations in 3 steady-state steps");
            Assert.That(liveAfter, Is.EqualTo(liveBefore), "buffers left live by 3 steps");
            Assert.That(steps.BufferRequests, Is.GreaterThan(100), "the steps did request buffers (from the cache)");
            // The multi-tensor Adam passes its addresses as launch parameters, the FFT column weights are uploaded once
            // and the losses stay on the device: nothing goes up and the host never waits.
            Assert.That(steps.CopiesHostToDevice, Is.Zero, "uploads inside a step");
            Assert.That(steps.HostSyncs, Is.Zero, "host waits inside a step");
            Assert.That(steps.CopiesDeviceToHost, Is.Zero, "downloads inside a step");
        });
    }
}
