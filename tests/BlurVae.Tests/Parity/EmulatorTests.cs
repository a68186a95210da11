using static BlurVae.Tests.Parity.KernelParity;

namespace BlurVae.Tests.Parity;

/// <summary>The host emulation itself (kernels/host/cuda_host.h), through the self-test kernels of kernels/host/selftest.cuh.</summary>
[TestFixture, Category("Parity")]
public class EmulatorTests
{
    // The emulator's own checks: always the emulated device, whatever GpuTarget picks for the parity tests.
    private static readonly EmulatedDevice Device = new();

    [Test]
    public void ThreadsReachingDifferentBarrierCountsAreReported()
    {
        using var y = Device.Allocate(64);
        var e = Assert.Throws<EmulatedLaunchException>(() => Device.Launch("emu_barrier_mismatch_kernel", new Dim3(2), new Dim3(64), y));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.BarrierMismatch));
        Assert.That(e.Message, Does.Contain("__syncthreads"));
    }

    [Test]
    public void AShuffleOnlySomeLanesReachIsReported()
    {
        using var y = Device.Allocate(64);
        var e = Assert.Throws<EmulatedLaunchException>(() => Device.Launch("emu_shuffle_mismatch_kernel", new Dim3(1), new Dim3(64), y));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.ShuffleMismatch));
    }

    [Test]
    public void AShuffleWhoseMaskExcludesTheCallingLaneIsReported()
    {
        using var y = Device.Allocate(32);
        var e = Assert.Throws<EmulatedLaunchException>(() => Device.Launch("emu_shuffle_mask_kernel", new Dim3(1), new Dim3(32), y, unchecked((int)0x0000ffffu)));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.ShuffleMaskExcludesLane));
        Assert.That(e.Message, Does.Contain("lane 16").And.Contain("0x0000ffff"));
        // The full mask is fine, and so is one covering exactly the existing lanes.
        Device.Launch("emu_shuffle_mask_kernel", new Dim3(1), new Dim3(32), y, unchecked((int)0xffffffffu));
        using var z = Device.Allocate(16);
        Device.Launch("emu_shuffle_mask_kernel", new Dim3(1), new Dim3(16), z, 0x0000ffff);
    }

    [Test]
    public void SyncInAKernelRegisteredWithoutBarriersIsReported()
    {
        using var y = Device.Allocate(32);
        var e = Assert.Throws<EmulatedLaunchException>(() => Device.Launch("emu_sync_in_plain_kernel", new Dim3(1), new Dim3(32), y));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.SyncInPlainKernel));
    }

    // Values are 1000·block + thread, read back as the int bits the kernel wrote.
    [TestCase(1, 1, 0, 32), TestCase(5, 16, 7, 8), TestCase(16, 3, 31, 32), TestCase(2, 4, 3, 4)]
    public void ShufflesReturnTheLanesCudaDefines(int delta, int laneMask, int srcLane, int width)
    {
        const int blocks = 2, threads = 96;
        using var output = Device.Allocate(4 * blocks * threads);
        Device.Launch("emu_shuffle_kernel", new Dim3(blocks), new Dim3(threads), output, delta, laneMask, srcLane, width);
        int[] got = Device.Download(output).Select(BitConverter.SingleToInt32Bits).ToArray();
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < threads; t++)
            {
                int lane = t % 32, warpBase = t - lane, seg = lane / width * width;
                int Value(int srcLaneInWarp) => 1000 * b + warpBase + srcLaneInWarp;
                int down = lane % width + delta < width ? lane + delta : lane;
                int xor = (lane ^ laneMask) >= seg + width ? lane : lane ^ laneMask;
                int up = lane % width >= delta ? lane - delta : lane;
                int idx = seg + srcLane % width;
                int at = 4 * (b * threads + t);
                Assert.That(got[at..(at + 4)], Is.EqualTo(new[] { Value(down), Value(xor), Value(up), Value(idx) }),
                    $"block {b} thread {t}: down, xor, up, idx");
            }
    }

    [TestCase(32), TestCase(1024), TestCase(100)]
    public void SyncthreadsOrdersSharedMemoryWritesBeforeReads(int threads)
    {
        const int blocks = 3;
        float[] x = Uniform(threads, blocks * threads);
        using var bx = Upload(x);
        using var by = Device.Allocate(x.Length);
        Device.Launch("emu_shared_reverse_kernel", new Dim3(blocks), new Dim3((uint)threads), by, bx);
        float[] y = Device.Download(by);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < threads; t++)
                Assert.That(y[b * threads + t], Is.EqualTo(x[b * threads + threads - 1 - t]), $"block {b} thread {t}");
    }

    [Test]
    public void AtomicAddIsExactAcrossParallelBlocksAnd2DBlocks()
    {
        using var counter = Device.Allocate(2);
        const int blocks = 64;
        Device.Launch("emu_atomic_add_kernel", new Dim3(blocks), new Dim3(16, 8), counter);
        float[] c = Device.Download(counter);
        Assert.That(c[0], Is.EqualTo(blocks * 128f));
        Assert.That(c[1], Is.EqualTo(blocks * (127 * 128 / 2f)));
    }

    [Test]
    public void UnknownKernelsWrongArgumentsAndBadGeometryAreRejected()
    {
        using var y = Device.Allocate(32);
        using var x = Device.Allocate(32); // y, x: one buffer as both is refused before the launch (RestrictAliasTests)
        Assert.That(Assert.Throws<EmulatedLaunchException>(() => Device.Launch("no_such_kernel", new Dim3(1), new Dim3(32), y))!.Error,
                    Is.EqualTo(HostLaunchError.UnknownKernel));
        Assert.That(Assert.Throws<EmulatedLaunchException>(() => Device.Launch("axpby_kernel", new Dim3(1), new Dim3(32), y, x, 32, 0.2f))!.Error,
                    Is.EqualTo(HostLaunchError.BadArguments), "one argument missing");
        var e = Assert.Throws<EmulatedLaunchException>(() => Device.Launch("axpby_kernel", new Dim3(1), new Dim3(32), y, x, y, 0.2f, 1f));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.BadArguments), "a pointer where the int n goes");
        Assert.That(e.Message, Does.Contain("argument 2"));
        Assert.That(Assert.Throws<EmulatedLaunchException>(() => Device.Launch("axpby_kernel", new Dim3(1), new Dim3(2048), y, x, 32, 0.2f, 1f))!.Error,
                    Is.EqualTo(HostLaunchError.InvalidConfiguration));
    }

    [Test]
    public void TheLibraryRegistersTheProductionKernels()
    {
        Assert.That(Device.KernelNames, Is.SupersetOf(new[]
        {
            "axpby_kernel", "adam_multi_tensor_kernel", "sum_to_forward_kernel", "batchnorm_leaky_relu_forward_kernel",
        }));
    }

    [Test]
    public void AllocationsAreCountedAndFreed()
    {
        var device = new EmulatedDevice();
        var a = device.Allocate(10);
        var b = device.Allocate(1000);
        Assert.That(device.LiveAllocations, Is.EqualTo(2));
        Assert.That(device.LiveBytes, Is.EqualTo(4040));
        a.Dispose();
        b.Dispose();
        b.Dispose(); // idempotent
        Assert.That(device.LiveAllocations, Is.Zero);
        Assert.That(device.LiveBytes, Is.Zero);
    }

    [Test]
    public void AMissingLibraryIsAClearError()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new EmulatedDevice("/nonexistent/libblurvae_kernels_host.so"));
        Assert.That(e!.Message, Does.Contain("/nonexistent/libblurvae_kernels_host.so").And.Contain("HostKernels.targets"));
    }
}

/// <summary>After every kernel test has run, no emulated buffer of the shared device is left allocated.</summary>
[SetUpFixture]
public class KernelsLeakCheck
{
    [OneTimeTearDown]
    public void NoBufferLeaked()
    {
        Assert.That(Device.LiveAllocations, Is.Zero, "emulated buffers leaked by the kernel tests");
    }
}
