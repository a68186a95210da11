using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class UpsampleParityTests
{
    // (planes, h, w): a single pixel (every tap clamped), odd and even sides, a single row and a single column.
    private static readonly int[][] Shapes = [[1, 1, 1], [3, 5, 4], [2, 7, 9], [1, 1, 6], [2, 6, 1]];

    // Any block size works for these elementwise launches; 7 leaves a partial last block at every size.
    private static readonly int[] Blocks = [7, 32, 128, 1024];

    // The weights are multiples of 1/16, exact in float on both sides; what differs is FMA contraction in the
    // forward and, in the backward, the order of at most 16 terms per input (the CPU scatters in output order).
    private const double Atol = 1e-6, Rtol = 1e-6;

    [Test, Combinatorial]
    public void ForwardAndBackwardMatchTheCpuBackend([ValueSource(nameof(Shapes))] int[] shape, [ValueSource(nameof(Blocks))] int block)
    {
        int planes = shape[0], h = shape[1], w = shape[2], inputs = planes * h * w;
        float[] x = Uniform(11 * inputs + block, inputs);
        float[] dy = Uniform(5 * inputs + block, 4 * inputs);
        // CPU: buffers 0 y, 1 x, 2 dx, 3 dy.
        var cpu = OnCpu(b =>
        {
            CpuBackend.Instance.UpsampleBilinear2xForward(b[0], b[1], planes, h, w);
            CpuBackend.Instance.UpsampleBilinear2xBackward(b[2], b[3], planes, h, w);
        }, new float[4 * inputs], x, new float[inputs], dy);

        using var ey = Device.Allocate(4 * inputs);
        using var ex = Upload(x);
        using var edx = Device.Allocate(inputs);
        using var edy = Upload(dy);
        Device.UpsampleBilinear2xForward(ey, ex, planes, h, w, block);
        Device.UpsampleBilinear2xBackward(edx, edy, planes, h, w, block);
        AssertClose(cpu[0], Device.Download(ey), Atol, Rtol, "y");
        AssertClose(cpu[2], Device.Download(edx), Atol, Rtol, "dx");
    }

    [Test]
    public void OutputTooSmallIsRejected()
    {
        using var x = Device.Allocate(20);
        using var y = Device.Allocate(79);
        Assert.Throws<ArgumentException>(() => Device.UpsampleBilinear2xForward(y, x, 1, 5, 4));
    }
}
