namespace BlurVae.Tests.Parity;

/// <summary>
/// Uploads go through pinned staging blocks (StagingPool) and an asynchronous copy: one host-to-device copy and no
/// host wait each, the caller's span free for reuse at once, and the blocks of a run's upload sizes made once and
/// reused. The emulated and recording devices run the same GpuDevice.Upload as the GPU (their staging memory is a
/// pinned managed array and their copies complete at once, so no fence).
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

    [Test]
    public void AProfiledStepUploadsItsBatchWithoutAHostSync()
    {
        // The step as train runs it: the batch and the noise uploaded, then the alternating step on the device.
        var config = new BenchConfig("tiny", 2, 1, 16, [4, 8], 4, 5, MlpHidden: 8);
        var device = new RecordingDevice(GpuSpec.H100Sxm);
        var runner = new OursRunner(config, new RecordingBackend(device), cudaGraph: false);
        var report = StepProfile.Measure(device, runner.Step, 2, 2, config.Name, "");
        Assert.Multiple(() =>
        {
            Assert.That(report.Counts.CopiesHostToDevice, Is.EqualTo(2), "the batch and the noise");
            Assert.That(report.Counts.HostSyncs, Is.Zero);
            Assert.That(report.Step.Records.Count(r => r.Name == "memcpy HtoD"), Is.EqualTo(2));
        });
    }
}
