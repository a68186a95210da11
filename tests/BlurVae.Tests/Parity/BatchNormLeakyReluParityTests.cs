using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// batchnorm_leaky_relu_{forward,backward}_kernel (kernels/batchnorm.cuh) against the CPU backend's fused op, and the
/// CPU fused op against the unfused pair (BatchNorm, then LeakyReLU): bit for bit, as it rounds the same way.
/// </summary>
[TestFixture, Category("Parity")]
public class BatchNormLeakyReluParityTests
{
    private const double Eps = 1e-5, Momentum = 0.1, Slope = 0.2;

    // (n, c, spatial): one value per image and channel, odd sizes, and one image with a long spatial axis; [1, 4, 1000]
    // and [5, 3, 61] cut each channel into several chunks (a short last one) at the smaller block sizes.
    private static readonly int[][] Shapes = [[2, 3, 1], [3, 5, 7], [3, 17, 33], [1, 4, 1000], [5, 3, 61]];

    private static readonly int[] Blocks = [32, 96, 256];

    // As BatchNormParityTests: sums in another order (its SumAtol), outputs of O(1).
    private static double SumAtol(int count) => BatchNormParityTests.SumAtol(count);
    private const double StatAtol = 1e-6, StatRtol = 1e-5, OutAtol = 1e-5, OutRtol = 1e-5;

    [Test, Combinatorial]
    public void KernelsMatchTheCpuBackend([ValueSource(nameof(Shapes))] int[] shape, [ValueSource(nameof(Blocks))] int block, [Values] bool affine)
    {
        int n = shape[0], c = shape[1], spatial = shape[2], total = n * c * spatial, count = n * spatial;
        int seed = 29 * total + block + (affine ? 1 : 0);
        var inputs = BatchNormInputs.Seeded(seed, Uniform(seed, total, -1.5f, 2.5f), c);
        var (x, gamma, beta, runMean, runVar, dy) = inputs;

        // CPU: 0 y, 1 saveMean, 2 saveInvStd, 3 x, 4 gamma, 5 beta, 6 runningMean, 7 runningVar, 8 dx, 9 dgamma, 10 dbeta, 11 dy.
        var cpu = OnCpu(b =>
        {
            var backend = CpuBackend.Instance;
            backend.BatchNormLeakyReluForwardTraining(b[0], b[1], b[2], b[3], affine ? b[4] : null, affine ? b[5] : null, b[6], b[7], n, c, spatial, Eps, Momentum, Slope);
            backend.BatchNormLeakyReluBackward(b[8], affine ? b[9] : null, affine ? b[10] : null, b[11], b[0], b[3], b[1], b[2], affine ? b[4] : null, n, c, spatial, Slope);
        }, new float[total], new float[c], new float[c], x, gamma, beta, runMean, runVar, new float[total], new float[c], new float[c], dy);

        using var e = new TrainingForwardBuffers(inputs);
        Device.BatchNormLeakyReluForward(e.Y, e.Mean, e.InvStd, e.X, affine ? e.Gamma : null, affine ? e.Beta : null, e.RunMean, e.RunVar, n, c, spatial, Eps, Momentum, Slope, block);
        e.AssertForwardMatches(cpu, StatAtol, StatRtol, OutAtol, OutRtol);

        // The backward reads its branch from y: both sides get the CPU's y and statistics, so that a value rounding
        // to the other side of the kink cannot flip one element's slope.
        using var cy = Upload(cpu[0]);
        using var cMean = Upload(cpu[1]);
        using var cInvStd = Upload(cpu[2]);
        using var edx = Device.Allocate(total);
        using var edGamma = Device.Allocate(c);
        using var edBeta = Device.Allocate(c);
        using var edy = Upload(dy);
        Device.BatchNormLeakyReluBackward(edx, affine ? edGamma : null, affine ? edBeta : null, edy, cy, e.X, cMean, cInvStd, affine ? e.Gamma : null, n, c, spatial, Slope, block);
        AssertClose(cpu[9], Device.Download(edGamma), SumAtol(count), OutRtol, "dgamma");
        AssertClose(cpu[10], Device.Download(edBeta), SumAtol(count), OutRtol, "dbeta");
        AssertClose(cpu[8], Device.Download(edx), OutAtol, OutRtol, "dx");
    }

    // The fused CPU op does the unfused pair's arithmetic in the same order: equal bit for bit (float32 and float64).
    [TestCase(3, 5, 7), TestCase(2, 64, 256), TestCase(1, 3, 1031)]
    public void CpuFusedEqualsTheUnfusedPair(int n, int c, int spatial)
    {
        int total = n * c * spatial;
        float[] x = Uniform(n + c, total, -1.5f, 2.5f), gamma = Uniform(2, c, 0.5f, 1.5f), beta = Uniform(3, c), dy = Uniform(4, total);
        var cpu = CpuBackend.Instance;
        // 0 y, 1 mean, 2 invstd, 3 x, 4 gamma, 5 beta, 6 rm, 7 rv, 8 dx, 9 dgamma, 10 dbeta, 11 dy
        float[][] Inputs() => [new float[total], new float[c], new float[c], x, gamma, beta, new float[c], Enumerable.Repeat(1f, c).ToArray(),
                               new float[total], new float[c], new float[c], dy];
        var fused = OnCpu(b =>
        {
            cpu.BatchNormLeakyReluForwardTraining(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], n, c, spatial, Eps, Momentum, Slope);
            cpu.BatchNormLeakyReluBackward(b[8], b[9], b[10], b[11], b[0], b[3], b[1], b[2], b[4], n, c, spatial, Slope);
        }, Inputs());
        var z = new float[total];
        var unfused = OnCpu(b =>
        {
            using var zb = cpu.Allocate(Kernels.DType.Float32, total);
            using var dz = cpu.Allocate(Kernels.DType.Float32, total);
            cpu.BatchNormForwardTraining(zb, b[1], b[2], b[3], b[4], b[5], b[6], b[7], n, c, spatial, Eps, Momentum);
            cpu.UnaryForward(Kernels.UnaryOp.LeakyRelu, b[0], zb, Slope);
            cpu.UnaryBackward(Kernels.UnaryOp.LeakyRelu, dz, b[11], zb, b[0], Slope);
            cpu.BatchNormBackward(b[8], b[9], b[10], dz, b[3], b[1], b[2], b[4], n, c, spatial);
        }, Inputs());
        string[] names = ["y", "saveMean", "saveInvStd", "x", "gamma", "beta", "runningMean", "runningVar", "dx", "dgamma", "dbeta", "dy"];
        for (int i = 0; i < names.Length; i++) Assert.That(fused[i], Is.EqualTo(unfused[i]), names[i]);
    }

    [Test]
    public void NegativeSlopesAreRejected()
    {
        using var x = Device.Allocate(6);
        using var s = Device.Allocate(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BatchNormLeakyReluForward(x, s, s, x, null, null, null, null, 2, 3, 1, Eps, Momentum, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BatchNormLeakyReluBackward(x, null, null, x, x, x, s, s, null, 2, 3, 1, -0.1));
    }
}
