using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// bias_activation_{forward,backward}_kernel (GpuDevice.BiasActivation*, a Linear layer's bias and activation) against
/// the CPU backend: forward and the activation gradient bit for bit (the same float operations), the bias gradient
/// within float rounding (the kernel adds row lanes by a tree and the chunks in order, the CPU row after row). Shapes:
/// one row, one column, rows that cut into several chunks with a partial last column block; block sizes 32 to 1024.
/// </summary>
[TestFixture, Category("Parity")]
public class BiasActivationParityTests
{
    private static readonly object[] Activations = [new object?[] { null, 0.0 }, new object[] { UnaryOp.Relu, 0.0 }, new object[] { UnaryOp.LeakyRelu, 0.2 }, new object[] { UnaryOp.Relu6, 0.0 }];
    private static readonly (int Rows, int Cols)[] Shapes = [(1, 33), (70, 1), (1000, 250)];

    private static IEnumerable<TestCaseData> Cases() =>
        from a in Activations.Cast<object?[]>()
        from s in Shapes
        from block in new[] { 32, 256, 1024 }
        select new TestCaseData((UnaryOp?)a[0], (double)a[1]!, s.Rows, s.Cols, block);

    // Pre-activations at least 0.05 from the kinks at 0 and 6, and the bias that leads to them.
    private static (float[] Y, float[] Bias) Inputs(int rows, int cols, int seed)
    {
        float[] pre = Uniform(seed, rows * cols, -3f, 8f).Select(v => Math.Abs(v) < 0.05f || Math.Abs(v - 6) < 0.05f ? v + 0.1f : v).ToArray();
        float[] bias = Uniform(seed + 1, cols);
        return (pre.Select((v, i) => v - bias[i % cols]).ToArray(), bias);
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward(UnaryOp? activation, double alpha, int rows, int cols, int block)
    {
        var (y, bias) = Inputs(rows, cols, rows + cols + block);
        float[] expected = OnCpu(b => CpuBackend.Instance.BiasActivationForward(b[0], b[1], rows, cols, activation, alpha), y, bias)[0];
        using var by = Upload(y);
        using var bb = Upload(bias);
        Device.BiasActivationForward(by, bb, rows, cols, activation, alpha, block);
        AssertClose(expected, Device.Download(by), 0, 0, $"{activation} y");
    }

    [TestCaseSource(nameof(Cases))]
    public void Backward(UnaryOp? activation, double alpha, int rows, int cols, int block)
    {
        var (y0, bias) = Inputs(rows, cols, 2 * rows + cols + block);
        float[] y = OnCpu(b => CpuBackend.Instance.BiasActivationForward(b[0], b[1], rows, cols, activation, alpha), y0, bias)[0];
        float[] dy = Uniform(3 * rows + block, rows * cols);
        float[][] expected = OnCpu(b => CpuBackend.Instance.BiasActivationBackward(b[0], b[1], b[2], b[3], rows, cols, activation, alpha),
            new float[rows * cols], new float[cols], dy, y);
        using var bdy = Upload(dy);
        using var by = Upload(y);
        using var dPre = Device.Allocate(rows * cols);
        using var dBias = Device.Allocate(cols);
        Device.BiasActivationBackward(dPre, dBias, bdy, by, rows, cols, activation, alpha, block);
        AssertClose(expected[0], Device.Download(dPre), 0, 0, $"{activation} dPre");
        AssertClose(expected[1], Device.Download(dBias), Tolerance.OfSum(rows), $"{activation} dBias");
        // Without a bias gradient the same launch writes only dPre.
        using var dPreOnly = Device.Allocate(rows * cols);
        Device.BiasActivationBackward(dPreOnly, null, bdy, by, rows, cols, activation, alpha, block);
        AssertClose(expected[0], Device.Download(dPreOnly), 0, 0, $"{activation} dPre without dBias");
    }

    [Test]
    public void UnfusableActivationsAreRejected()
    {
        using var y = Device.Allocate(6);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BiasActivationForward(y, null, 2, 3, UnaryOp.LeakyRelu, -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BiasActivationForward(y, null, 2, 3, UnaryOp.Tanh, 0));
    }
}
