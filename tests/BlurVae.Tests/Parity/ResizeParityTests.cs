using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// resize_bilinear_{forward,backward}_kernel (kernels/resize.cuh) against the CPU backend at every block size: up, down,
/// one pixel, Inception's 32 → 299, the identity, and architecture B's 2× upsampling (odd and even sides, a single row,
/// a single column, a single pixel).
/// </summary>
[TestFixture, Category("Parity")]
public class ResizeParityTests
{
    // (planes, inH, inW, outH, outW)
    private static readonly int[][] Shapes =
    [
        [3, 5, 7, 17, 11], [2, 9, 8, 4, 3], [1, 1, 1, 3, 2], [1, 32, 32, 299, 299], [2, 6, 6, 6, 6], [1, 7, 3, 2, 13],
        [3, 5, 4, 10, 8], [2, 7, 9, 14, 18], [1, 1, 6, 2, 12], [2, 6, 1, 12, 2], [1, 1, 1, 2, 2],
    ];

    // Any block size works for these elementwise launches; 7 leaves a partial last block at every size.
    private static readonly int[] Blocks = [7, 32, 256, 1024];

    [Test, Combinatorial]
    public void ForwardAndBackwardMatchTheCpuBackend([ValueSource(nameof(Shapes))] int[] s, [ValueSource(nameof(Blocks))] int block)
    {
        int planes = s[0], inH = s[1], inW = s[2], outH = s[3], outW = s[4];
        int inputs = planes * inH * inW, outputs = planes * outH * outW;
        float[] x = Uniform(21 * inputs + block, inputs), dy = Uniform(5 * outputs + block, outputs);
        var cpu = OnCpu(b =>
        {
            CpuBackend.Instance.ResizeBilinearForward(b[0], b[1], planes, inH, inW, outH, outW);
            CpuBackend.Instance.ResizeBilinearBackward(b[2], b[3], planes, inH, inW, outH, outW);
        }, new float[outputs], x, new float[inputs], dy);
        using var ey = Upload(Uniform(3, outputs)); // garbage: every element must be overwritten
        using var ex = Upload(x);
        using var edx = Upload(Uniform(4, inputs));
        using var edy = Upload(dy);
        Device.ResizeBilinearForward(ey, ex, planes, inH, inW, outH, outW, block);
        Device.ResizeBilinearBackward(edx, edy, planes, inH, inW, outH, outW, block);
        // The kernel computes the source coordinate in float (as PyTorch does), the CPU in double: the weights differ
        // by up to half an ulp of the coordinate (2e-6 at 32 pixels) times pixel differences up to 2; the 32 → 299
        // backward sums ~130 such terms per input. (At 2× the weights are multiples of 1/16, exact on both sides.)
        AssertClose(cpu[0], Device.Download(ey), 1e-5, 1e-5, "y");
        AssertClose(cpu[2], Device.Download(edx), 5e-5, 1e-5, "dx");
    }

    [Test]
    public void OutputTooSmallIsRejected()
    {
        using var x = Device.Allocate(20);
        using var y = Device.Allocate(79);
        Assert.Throws<ArgumentException>(() => Device.ResizeBilinearForward(y, x, 1, 5, 4, 10, 8));
    }
}
