using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// kernels/pool.cuh (pool2d_forward_kernel, pool2d_backward_kernel) against the CPU backend: max and average, both
/// count_include_pad settings, per-axis windows, adaptive windows that overlap or repeat pixels, one-pixel planes,
/// block sizes that leave partial blocks.
/// </summary>
[TestFixture, Category("Parity")]
public class PoolParityTests
{
    public static IEnumerable<PoolGeometry> Geometries()
    {
        yield return PoolGeometry.ForPool(PoolMode.Max, 3, 9, 8, (3, 3), (2, 2), (0, 0));
        yield return PoolGeometry.ForPool(PoolMode.Max, 2, 7, 7, (3, 3), (1, 1), (1, 1));
        yield return PoolGeometry.ForPool(PoolMode.Max, 2, 5, 7, (2, 3), (2, 1), (1, 1));
        yield return PoolGeometry.ForPool(PoolMode.Average, 2, 7, 5, (3, 3), (1, 1), (1, 1), countIncludePad: false);
        yield return PoolGeometry.ForPool(PoolMode.Average, 3, 8, 9, (3, 3), (2, 2), (1, 1), countIncludePad: true);
        yield return PoolGeometry.ForPool(PoolMode.Average, 1, 1, 1, (1, 1), (1, 1), (0, 0));
        yield return PoolGeometry.ForAdaptive(PoolMode.Average, 5, 8, 8, 1, 1);
        yield return PoolGeometry.ForAdaptive(PoolMode.Average, 2, 7, 5, 3, 4);
        yield return PoolGeometry.ForAdaptive(PoolMode.Max, 2, 4, 9, 6, 4);
    }

    private static readonly int[] Blocks = [7, 128];

    [Test, Combinatorial]
    public void ForwardAndBackwardMatchTheCpuBackend([ValueSource(nameof(Geometries))] PoolGeometry g, [ValueSource(nameof(Blocks))] int block)
    {
        int seed = g.GetHashCode() ^ block;
        float[] x = Uniform(seed, g.InputLength), dy = Uniform(seed + 1, g.OutputLength);
        // CPU: buffers 0 y, 1 x, 2 dx, 3 dy.
        var cpu = OnCpu(b =>
        {
            CpuBackend.Instance.Pool2dForward(b[0], b[1], g);
            CpuBackend.Instance.Pool2dBackward(b[2], b[3], b[1], g);
        }, new float[g.OutputLength], x, new float[g.InputLength], dy);

        using var ey = Upload(Uniform(seed + 2, g.OutputLength)); // garbage: the kernel must overwrite all of it
        using var ex = Upload(x);
        using var edx = Upload(Uniform(seed + 3, g.InputLength));
        using var edy = Upload(dy);
        Device.Pool2dForward(ey, ex, g, block);
        Device.Pool2dBackward(edx, edy, ex, g, block);
        // Maxima are exact; averages differ by the summation order of at most 16 terms.
        AssertClose(cpu[0], Device.Download(ey), 1e-6, 1e-6, "y");
        AssertClose(cpu[2], Device.Download(edx), 1e-6, 1e-6, "dx");
    }

    [Test]
    public void AnInconsistentGeometryIsRejected()
    {
        var g = PoolGeometry.ForPool(PoolMode.Max, 1, 9, 8, (3, 3), (2, 2), (0, 0)) with { OutH = 5 };
        using var x = Device.Allocate(g.InputLength);
        using var y = Device.Allocate(g.OutputLength);
        Assert.Throws<ArgumentException>(() => Device.Pool2dForward(y, x, g));
    }
}
