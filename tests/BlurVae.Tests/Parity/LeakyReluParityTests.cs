using BlurVae.Kernels;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class LeakyReluParityTests
{
    // Both sides compute x or alpha·x with one float rounding, so the results must agree exactly.
    private const double Atol = 0, Rtol = 0;
    private const float Alpha = 0.2f;

    [Test, Combinatorial]
    public void Forward([ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        float[] x = Uniform(n + block, n);
        float[] expected = OnCpu(b => BlurVae.Kernels.Cpu.CpuBackend.Instance.UnaryForward(UnaryOp.LeakyRelu, b[0], b[1], Alpha), new float[n], x)[0];
        using var dx = Upload(x);
        using var dy = Device.Allocate(n);
        Device.LeakyReluForward(dy, dx, n, Alpha, block);
        AssertClose(expected, Device.Download(dy), Atol, Rtol, "y");
    }

    [Test, Combinatorial]
    public void Backward([ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        float[] x = Uniform(2 * n + block, n), gy = Uniform(3 * n + block, n);
        float[] expected = OnCpu(b => BlurVae.Kernels.Cpu.CpuBackend.Instance.UnaryBackward(UnaryOp.LeakyRelu, b[0], b[1], b[2], b[3], Alpha),
                                 new float[n], gy, x, new float[n])[0];
        using var bx = Upload(x);
        using var bdy = Upload(gy);
        using var bdx = Device.Allocate(n);
        Device.LeakyReluBackward(bdx, bdy, bx, n, Alpha, block);
        AssertClose(expected, Device.Download(bdx), Atol, Rtol, "dx");
    }
}
