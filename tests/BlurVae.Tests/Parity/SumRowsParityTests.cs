using BlurVae.Kernels.Cpu;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class SumRowsParityTests
{
    // The kernel sums in a different order (strided per thread, then a shuffle tree) than the CPU backend's
    // vectorised sum. With |x| ≤ 1 the float32 rounding error of either order stays far below 2^-20·cols.
    private static double Atol(int cols) => Math.Pow(2, -20) * cols;
    private const double Rtol = 1e-5;
    private const int Rows = 5;

    [Test, Combinatorial]
    public void MatchesCpuSumTo([ValueSource(typeof(KernelParity), nameof(Sizes))] int cols, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        float[] x = Uniform(cols * 13 + block, Rows * cols);
        float[] expected = OnCpu(b => CpuBackend.Instance.SumTo(b[0], [Rows, 1], b[1], [Rows, cols]), new float[Rows], x)[0];
        using var bx = Upload(x);
        using var by = Device.Allocate(Rows);
        Device.SumRowsForward(by, bx, Rows, cols, block);
        AssertClose(expected, Device.Download(by), Atol(cols), Rtol, "y");
    }

    [Test]
    public void BlockSizeMustBeAMultipleOf32()
    {
        using var bx = Device.Allocate(10);
        using var by = Device.Allocate(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.SumRowsForward(by, bx, 1, 10, 48));
    }
}
