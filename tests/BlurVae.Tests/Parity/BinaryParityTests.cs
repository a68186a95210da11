using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class BinaryParityTests
{
    // One IEEE float operation per element on both sides: the results must agree exactly.
    private const double Atol = 0, Rtol = 0;

    // (yShape, aShape, bShape): per-channel, mutual broadcast, scalars, interleaved ones, plain, and an alternating
    // pattern that still needs all six axes after coalescing.
    public static readonly object[] Cases =
    [
        new object[] { new[] { 3, 5, 4, 3 }, new[] { 3, 5, 4, 3 }, new[] { 1, 5, 1, 1 } },
        new object[] { new[] { 3, 5, 4, 3 }, new[] { 1, 5, 1, 1 }, new[] { 3, 5, 4, 3 } },
        new object[] { new[] { 5, 7, 3 }, new[] { 5, 1, 3 }, new[] { 1, 7, 1 } },
        new object[] { new[] { 4, 6 }, new[] { 4, 6 }, new[] { 1, 1 } },
        new object[] { new[] { 4, 6 }, new[] { 1, 1 }, new[] { 4, 6 } },
        new object[] { new[] { 1 }, new[] { 1 }, new[] { 1 } },
        new object[] { new[] { 3, 4, 5, 2 }, new[] { 3, 1, 5, 1 }, new[] { 1, 4, 1, 2 } },
        new object[] { new[] { 1001 }, new[] { 1001 }, new[] { 1001 } },
        new object[] { new[] { 2, 3, 3, 2, 2, 3 }, new[] { 2, 1, 3, 1, 2, 1 }, new[] { 1, 3, 1, 2, 1, 3 } },
    ];

    [Test, Combinatorial]
    public void Forward([ValueSource(nameof(Cases))] object[] shapes, [Values] BinaryOp op, [Values(32, 128, 1024)] int block)
    {
        int[] yShape = (int[])shapes[0], aShape = (int[])shapes[1], bShape = (int[])shapes[2];
        int ny = yShape.Aggregate(1, (p, d) => p * d), na = aShape.Aggregate(1, (p, d) => p * d), nb = bShape.Aggregate(1, (p, d) => p * d);
        float[] a = Uniform(na + 7 * block, na, -2, 2);
        // Divisors kept away from zero.
        float[] b = Uniform(nb + 11 * block, nb, 0.5f, 2f).Select((v, i) => i % 2 == 0 ? v : -v).ToArray();
        float[] expected = OnCpu(buf => CpuBackend.Instance.BinaryForward(op, buf[0], yShape, buf[1], aShape, buf[2], bShape), new float[ny], a, b)[0];
        using var ba = Upload(a);
        using var bb = Upload(b);
        using var by = Device.Allocate(ny);
        Device.BinaryForward(op, by, yShape, ba, aShape, bb, bShape, block);
        AssertClose(expected, Device.Download(by), Atol, Rtol, $"{op} y");
    }

    [Test]
    public void IncompatibleOrTooManyAxesAreRejected()
    {
        using var y = Device.Allocate(2 * 3 * 2 * 3 * 2 * 3 * 2);
        using var a = Device.Allocate(64);
        using var b = Device.Allocate(64);
        Assert.Throws<ArgumentException>(() => Device.BinaryForward(BinaryOp.Add, y, [2, 3], a, [2, 3], b, [3, 3]));
        Assert.Throws<ArgumentException>(() => Device.BinaryForward(BinaryOp.Add, y, [2, 3], a, [2, 3], b, [3]));
        // Seven alternating axes cannot coalesce below seven.
        Assert.Throws<ArgumentException>(() => Device.BinaryForward(BinaryOp.Add, y, [2, 3, 2, 3, 2, 3, 2], a, [2, 1, 2, 1, 2, 1, 2], b, [1, 3, 1, 3, 1, 3, 1]));
    }

    public static readonly object[] AxpbyCases =
    [
        new object[] { 0.7, 0.0 }, // beta = 0: y is ignored, NaN included
        new object[] { 1.0, 1.0 },
        new object[] { 0.7, 1.0 },
        new object[] { 1.0, -0.3 },
        new object[] { 0.7, -0.3 },
    ];

    // Same float operations in the same order; the tolerance only allows for a compiler contracting x·alpha + t into an FMA.
    [Test, Combinatorial]
    public void Axpby([ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [Values(32, 256)] int block, [ValueSource(nameof(AxpbyCases))] object[] ab)
    {
        double alpha = (double)ab[0], beta = (double)ab[1];
        float[] x = Uniform(n + block, n), y0 = Uniform(5 * n + block, n);
        if (beta == 0) y0[0] = float.NaN;
        float[] expected = OnCpu(b => CpuBackend.Instance.Axpby(b[0], alpha, b[1], beta), y0, x)[0];
        using var bx = Upload(x);
        using var by = Upload(y0);
        Device.Axpby(by, alpha, bx, beta, n, block);
        AssertClose(expected, Device.Download(by), 1e-7, 1e-6, "y");
    }
}
