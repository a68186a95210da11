namespace BlurVae.Tests.Parity;

/// <summary>
/// Uploads go through pinned staging blocks (StagingPool) and an asynchronous copy: one host-to-device copy and no
/// host wait each, the caller's span free for reuse at once, and the blocks of a run's upload sizes made once and
/// reused. The emulated and recording devices run the same GpuDevice.Upload as the GPU (their staging memory is a
/// pinned managed array and their copies complete at once, so no fence). A profiled training step's two uploads (batch
/// and noise) are checked in StepProfileTests.TrainingStepHostReadIsCounted.
/// </summary>
[TestFixture, Category("Parity")]
public class StagedUploadTests
{
    [Test]
    public void AnUploadIsOneAsynchronousCopyAndTheSpanIsFreeAtOnce()
    {
        using var device = new EmulatedDevice();
        using var buffer = device.Allocate(1000, zeroed: false);
        var host = KernelParity.Uniform(5, 1000);
        var expected = (float[])host.Clone();
        var before = device.Counts;
        device.Upload(buffer, host);
        Array.Fill(host, 7f); // the caller reuses its array: the upload already copied it to staging
        var counts = device.Counts.Minus(before);
        Assert.Multiple(() =>
        {
            Assert.That(counts.CopiesHostToDevice, Is.EqualTo(1));
            Assert.That(counts.HostSyncs, Is.Zero, "an upload does not wait for the device");
            Assert.That(counts.StreamOperations, Is.EqualTo(1));
            Assert.That(device.Download(buffer), Is.EqualTo(expected));
        });
    }

    [Test]
    public void StagingBlocksAreMadeOnceForARunsUploadSizes()
    {
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        using var batch = device.Allocate(4 * 3 * 16 * 16);
        using var noise = device.Allocate(4 * 8);
        var x = new float[batch.Length];
        var eps = new float[noise.Length];
        device.Upload(batch, x);
        device.Upload(noise, eps);
        int made = device.StagingBlocks;
        var before = device.Counts;
        for (int step = 0; step < 5; step++)
        {
            device.Upload(batch, x);
            device.Upload(noise, eps);
        }
        var counts = device.Counts.Minus(before);
        Assert.Multiple(() =>
        {
            Assert.That(made, Is.EqualTo(2), "one block per upload size");
            Assert.That(device.StagingBlocks, Is.EqualTo(made), "no new staging block in steady state");
            Assert.That(counts.CopiesHostToDevice, Is.EqualTo(10));
            Assert.That(counts.HostSyncs, Is.Zero);
        });
    }
}
