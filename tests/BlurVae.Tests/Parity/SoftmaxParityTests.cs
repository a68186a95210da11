using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class SoftmaxParityTests
{
    // (rows, cols): a single element, less than a warp, not a multiple of any block, one row longer than most blocks.
    private static readonly int[][] Shapes = [[1, 1], [3, 7], [5, 121], [2, 1000]];

    // The kernel's expf and the CPU backend's vectorised Exp may differ by an ulp or two, and the row sums are
    // accumulated in another order; outputs are probabilities ≤ 1 and gradients O(1/cols) to O(1).
    private const double Atol = 1e-7, Rtol = 1e-5;

    [Test, Combinatorial]
    public void ForwardAndBackwardMatchTheCpuBackend([ValueSource(nameof(Shapes))] int[] shape, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        int rows = shape[0], cols = shape[1], total = rows * cols;
        // Logits over [-10, 10]: exp without the max shift would still fit, but the rows are far from uniform.
        float[] x = Uniform(13 * total + block, total, -10, 10);
        float[] dy = Uniform(7 * total + block, total);
        // CPU: buffers 0 y, 1 x, 2 dx, 3 dy.
        var cpu = OnCpu(b =>
        {
            CpuBackend.Instance.SoftmaxForward(b[0], b[1], rows, cols);
            CpuBackend.Instance.SoftmaxBackward(b[2], b[3], b[0], rows, cols);
        }, new float[total], x, new float[total], dy);

        using var ey = Device.Allocate(total);
        using var ex = Upload(x);
        using var edx = Device.Allocate(total);
        using var edy = Upload(dy);
        Device.SoftmaxForward(ey, ex, rows, cols, block);
        AssertClose(cpu[0], Device.Download(ey), Atol, Rtol, "y");
        // The backward from the CPU's y, so that only the backward's own differences count.
        using var eyCpu = Upload(cpu[0]);
        Device.SoftmaxBackward(edx, edy, eyCpu, rows, cols, block);
        AssertClose(cpu[2], Device.Download(edx), Atol, Rtol, "dx");
    }

    [Test]
    public void LargeLogitsDoNotOverflow()
    {
        // exp(100) overflows float32: only the max shift keeps these rows finite.
        float[] x = [100f, 99f, 98f, -100f, 100f, 100f];
        using var ex = Upload(x);
        using var ey = Device.Allocate(6);
        Device.SoftmaxForward(ey, ex, 2, 3, 32);
        var cpu = OnCpu(b => CpuBackend.Instance.SoftmaxForward(b[0], b[1], 2, 3), new float[6], x)[0];
        AssertClose(cpu, Device.Download(ey), Atol, Rtol, "y");
        Assert.That(Device.Download(ey).All(float.IsFinite));
    }

    [Test]
    public void BlockSizeMustBeAMultipleOf32()
    {
        using var b = Device.Allocate(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.SoftmaxForward(b, b, 1, 10, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.SoftmaxBackward(b, b, b, 1, 10, 100));
    }
}
