using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class UnaryParityTests
{
    // Ops computed with the same float operations in the same order as the CPU backend agree exactly. The
    // transcendental ones (tanh, sigmoid's exp, exp, log, pow) come from glibc on the host and from
    // TensorPrimitives' vectorised approximations on the CPU backend: both within a few ulp of the true value.
    private static (double Atol, double Rtol) Tolerance(UnaryOp op, bool backward) => op switch
    {
        UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Exp or UnaryOp.Log when !backward => (1e-7, 2e-6),
        UnaryOp.Pow => (1e-7, 2e-6),
        _ => (0, 0),
    };

    private static double Alpha(UnaryOp op) => op switch
    {
        UnaryOp.Scale => 0.7,
        UnaryOp.AddScalar => -0.3,
        UnaryOp.LeakyRelu => 0.2,
        UnaryOp.Pow => 1.7,
        _ => 0,
    };

    // Log and Pow need x > 0; Relu, LeakyRelu, Abs and Relu6 keep x at least 0.05 away from their kinks (0, and 6).
    private static float[] Input(UnaryOp op, int seed, int n) => op switch
    {
        UnaryOp.Log or UnaryOp.Pow => Uniform(seed, n, 0.1f, 2f),
        UnaryOp.Relu or UnaryOp.LeakyRelu or UnaryOp.Abs => Uniform(seed, n).Select(v => v >= 0 ? v + 0.05f : v - 0.05f).ToArray(),
        UnaryOp.Relu6 => Uniform(seed, n, -2f, 8f).Select(v => Math.Abs(v) < 0.05f || Math.Abs(v - 6) < 0.05f ? v + 0.1f : v).ToArray(),
        _ => Uniform(seed, n, -2f, 2f),
    };

    [Test]
    public void KernelOpCodesMatchTheEnum()
    {
        // The UNARY_* / BINARY_* codes of kernels/elementwise.cuh; the kernels switch on (int)op.
        string[] unary = ["Scale", "AddScalar", "Relu", "LeakyRelu", "Relu6", "Tanh", "Sigmoid", "Exp", "Log", "Abs", "Square", "Pow"];
        for (int i = 0; i < unary.Length; i++) Assert.That((int)Enum.Parse<UnaryOp>(unary[i]), Is.EqualTo(i), unary[i]);
        Assert.That(Enum.GetValues<UnaryOp>(), Has.Length.EqualTo(unary.Length), "UNARY_OP_COUNT");
        string[] binary = ["Add", "Sub", "Mul", "Div"];
        for (int i = 0; i < binary.Length; i++) Assert.That((int)Enum.Parse<BinaryOp>(binary[i]), Is.EqualTo(i), binary[i]);
        Assert.That(Enum.GetValues<BinaryOp>(), Has.Length.EqualTo(binary.Length), "BINARY_OP_COUNT");
    }

    [Test, Combinatorial]
    public void Forward([Values] UnaryOp op, [ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        float[] x = Input(op, n + block + (int)op, n);
        float[] expected = OnCpu(b => CpuBackend.Instance.UnaryForward(op, b[0], b[1], Alpha(op)), new float[n], x)[0];
        using var bx = Upload(x);
        using var by = Device.Allocate(n);
        Device.UnaryForward(op, by, bx, n, Alpha(op), block);
        var (atol, rtol) = Tolerance(op, backward: false);
        AssertClose(expected, Device.Download(by), atol, rtol, $"{op} y");
    }

    [Test, Combinatorial]
    public void Backward([Values] UnaryOp op, [ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block)
    {
        float[] x = Input(op, 2 * n + block + (int)op, n), gy = Uniform(3 * n + block, n);
        // Both sides get the same y (the CPU forward), so Tanh/Sigmoid/Exp backward compare the derivative rule alone.
        float[] y = OnCpu(b => CpuBackend.Instance.UnaryForward(op, b[0], b[1], Alpha(op)), new float[n], x)[0];
        float[] expected = OnCpu(b => CpuBackend.Instance.UnaryBackward(op, b[0], b[1], b[2], b[3], Alpha(op)), new float[n], gy, x, y)[0];
        using var bx = Upload(x);
        using var by = Upload(y);
        using var bdy = Upload(gy);
        using var bdx = Device.Allocate(n);
        Device.UnaryBackward(op, bdx, bdy, bx, by, n, Alpha(op), block);
        var (atol, rtol) = Tolerance(op, backward: true);
        AssertClose(expected, Device.Download(bdx), atol, rtol, $"{op} dx");
    }

    [Test]
    public void Relu6AndAbsBackwardAtTheKinks()
    {
        // Exactly at the kinks: Relu6 passes nothing at 0 and 6 (strictly inside only), Abs uses sign(0) = 0.
        float[] x = [0f, 6f, 3f, -1f, 7f];
        float[] gy = [1f, 1f, 1f, 1f, 1f];
        foreach (var op in new[] { UnaryOp.Relu6, UnaryOp.Abs })
        {
            float[] expected = OnCpu(b => CpuBackend.Instance.UnaryBackward(op, b[0], b[1], b[2], b[3], 0), new float[5], gy, x, new float[5])[0];
            using var bx = Upload(x);
            using var by = Device.Allocate(5);
            using var bdy = Upload(gy);
            using var bdx = Device.Allocate(5);
            Device.UnaryBackward(op, bdx, bdy, bx, by, 5, 0, 32);
            AssertClose(expected, Device.Download(bdx), 0, 0, $"{op} dx");
        }
    }

    [Test]
    public void UnknownOpIsRejected()
    {
        using var b = Device.Allocate(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.UnaryForward((UnaryOp)99, b, b, 4, 0));
    }
}
