using BlurVae.Training.SelfTest;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class BatchNormParityTests
{
    private const double Eps = 1e-5, Momentum = 0.1;

    // (n, c, spatial): one value per image per channel, odd sizes, channels not a multiple of anything, and n = 1
    // with a long spatial axis (training statistics from a single image); [1, 4, 1000] and [5, 3, 61] cut each channel
    // into several chunks (a short last one) at the smaller block sizes, so the partials are merged.
    private static readonly int[][] Shapes = [[2, 3, 1], [3, 5, 7], [3, 17, 33], [1, 4, 1000], [5, 3, 61]];

    // 96: a block of three warps, so the second stage of the block reduction sees a count of warps that is not a power
    // of two. 1024 (32 warps, the most a block holds) is slow to emulate, so FullBlocksMatchTheCpuBackend runs it on two shapes.
    private static readonly int[] Blocks = [32, 96, 256];

    // The kernel sums each channel in another order (strided per thread, then a shuffle tree) than the CPU backend
    // (vectorised per image): the sums (dγ, dβ) of `count` terms of magnitude ≤ ~3 take the parity suites' rule
    // for sums (Tolerance.OfSum); normalised outputs are O(1) and inherit a relative error of a few ulps of 1/σ,
    // plus FMA contraction of x·scale + shift.
    internal static double SumAtol(int count) => Tolerance.OfSum(count, magnitude: 4).Atol;
    private const double StatAtol = 1e-6, StatRtol = 1e-5;
    private const double OutAtol = 1e-5, OutRtol = 1e-5;

    [Test, Combinatorial]
    public void TrainingForwardAndBackwardMatchTheCpuBackend(
        [ValueSource(nameof(Shapes))] int[] shape, [ValueSource(nameof(Blocks))] int block,
        [Values] bool affine, [Values] bool runningStats) => CheckTraining(shape, block, affine, runningStats);

    [Test, Combinatorial]
    public void InferenceForwardAndBackwardMatchTheCpuBackend(
        [ValueSource(nameof(Shapes))] int[] shape, [ValueSource(nameof(Blocks))] int block, [Values] bool affine)
        => CheckInference(shape, block, affine);

    [TestCase(2, 3, 1), TestCase(1, 4, 1000)]
    public void FullBlocksMatchTheCpuBackend(int n, int c, int spatial)
    {
        CheckTraining([n, c, spatial], 1024, affine: true, runningStats: true);
        CheckInference([n, c, spatial], 1024, affine: true);
    }

    private static void CheckTraining(int[] shape, int block, bool affine, bool runningStats)
    {
        int n = shape[0], c = shape[1], spatial = shape[2], total = n * c * spatial, count = n * spatial;
        int seed = 31 * total + block + (affine ? 1 : 0) + (runningStats ? 2 : 0);
        var (x, gamma, beta, runMean, runVar, dy) = BatchNormInputs.Seeded(seed, Input(seed, n, c, spatial), c);

        // CPU: buffers 0 y, 1 saveMean, 2 saveInvStd, 3 x, 4 gamma, 5 beta, 6 runningMean, 7 runningVar,
        //      8 dx, 9 dgamma, 10 dbeta, 11 dy.
        var cpu = OnCpu(b =>
        {
            var backend = CpuBackend.Instance;
            backend.BatchNormForwardTraining(b[0], b[1], b[2], b[3], affine ? b[4] : null, affine ? b[5] : null,
                runningStats ? b[6] : null, runningStats ? b[7] : null, n, c, spatial, Eps, Momentum);
            backend.BatchNormBackward(b[8], affine ? b[9] : null, affine ? b[10] : null, b[11], b[3], b[1], b[2],
                affine ? b[4] : null, n, c, spatial);
        }, new float[total], new float[c], new float[c], x, gamma, beta, runMean, runVar, new float[total], new float[c], new float[c], dy);

        using var e = new TrainingForwardBuffers(new(x, gamma, beta, runMean, runVar, dy));
        using var edx = Device.Allocate(total);
        using var edGamma = Device.Allocate(c);
        using var edBeta = Device.Allocate(c);
        using var edy = Upload(dy);
        Device.BatchNormForwardTraining(e.Y, e.Mean, e.InvStd, e.X, affine ? e.Gamma : null, affine ? e.Beta : null,
            runningStats ? e.RunMean : null, runningStats ? e.RunVar : null, n, c, spatial, Eps, Momentum, block);
        Device.BatchNormBackward(edx, affine ? edGamma : null, affine ? edBeta : null, edy, e.X, e.Mean, e.InvStd,
            affine ? e.Gamma : null, n, c, spatial, block);

        // Absent running statistics stay untouched on both sides.
        e.AssertForwardMatches(cpu, StatAtol, StatRtol, OutAtol, OutRtol);
        AssertClose(cpu[9], Device.Download(edGamma), SumAtol(count), OutRtol, "dgamma");
        AssertClose(cpu[10], Device.Download(edBeta), SumAtol(count), OutRtol, "dbeta");
        AssertClose(cpu[8], Device.Download(edx), OutAtol, OutRtol, "dx");
    }

    private static void CheckInference(int[] shape, int block, bool affine)
    {
        int n = shape[0], c = shape[1], spatial = shape[2], total = n * c * spatial, count = n * spatial;
        int seed = 17 * total + block + (affine ? 1 : 0);
        var (x, gamma, beta, runMean, runVar, dy) = BatchNormInputs.Seeded(seed, Input(seed, n, c, spatial), c);

        // CPU: buffers 0 y, 1 x, 2 runningMean, 3 runningVar, 4 gamma, 5 beta, 6 dx, 7 dgamma, 8 dbeta, 9 dy.
        var cpu = OnCpu(b =>
        {
            var backend = CpuBackend.Instance;
            backend.BatchNormForwardInference(b[0], b[1], b[2], b[3], affine ? b[4] : null, affine ? b[5] : null, n, c, spatial, Eps);
            backend.BatchNormBackwardInference(b[6], affine ? b[7] : null, affine ? b[8] : null, b[9], b[1], b[2], b[3],
                affine ? b[4] : null, n, c, spatial, Eps);
        }, new float[total], x, runMean, runVar, gamma, beta, new float[total], new float[c], new float[c], dy);

        using var ey = Device.Allocate(total);
        using var ex = Upload(x);
        using var eRunMean = Upload(runMean);
        using var eRunVar = Upload(runVar);
        using var eGamma = Upload(gamma);
        using var eBeta = Upload(beta);
        using var edx = Device.Allocate(total);
        using var edGamma = Device.Allocate(c);
        using var edBeta = Device.Allocate(c);
        using var edy = Upload(dy);
        Device.BatchNormForwardInference(ey, ex, eRunMean, eRunVar, affine ? eGamma : null, affine ? eBeta : null, n, c, spatial, Eps, block);
        Device.BatchNormBackwardInference(edx, affine ? edGamma : null, affine ? edBeta : null, edy, ex, eRunMean, eRunVar,
            affine ? eGamma : null, n, c, spatial, Eps, block);

        AssertClose(cpu[0], Device.Download(ey), OutAtol, OutRtol, "y");
        AssertClose(cpu[6], Device.Download(edx), OutAtol, OutRtol, "dx");
        AssertClose(cpu[7], Device.Download(edGamma), SumAtol(count), OutRtol, "dgamma");
        AssertClose(cpu[8], Device.Download(edBeta), SumAtol(count), OutRtol, "dbeta");
    }

    [Test]
    public void GammaAbsentButGradientsRequested()
    {
        // γ = 1 implicitly while dγ and dβ are still wanted (a caller that freezes γ at 1 but trains β).
        const int n = 3, c = 5, spatial = 7, total = n * c * spatial;
        float[] x = Input(5, n, c, spatial), dy = Uniform(6, total);
        var cpu = OnCpu(b =>
        {
            CpuBackend.Instance.BatchNormForwardTraining(b[0], b[1], b[2], b[3], null, null, null, null, n, c, spatial, Eps, Momentum);
            CpuBackend.Instance.BatchNormBackward(b[4], b[5], b[6], b[7], b[3], b[1], b[2], null, n, c, spatial);
        }, new float[total], new float[c], new float[c], x, new float[total], new float[c], new float[c], dy);
        using var ey = Device.Allocate(total);
        using var eMean = Device.Allocate(c);
        using var eInvStd = Device.Allocate(c);
        using var ex = Upload(x);
        using var edx = Device.Allocate(total);
        using var edGamma = Device.Allocate(c);
        using var edBeta = Device.Allocate(c);
        using var edy = Upload(dy);
        Device.BatchNormForwardTraining(ey, eMean, eInvStd, ex, null, null, null, null, n, c, spatial, Eps, Momentum, 64);
        Device.BatchNormBackward(edx, edGamma, edBeta, edy, ex, eMean, eInvStd, null, n, c, spatial, 64);
        AssertClose(cpu[4], Device.Download(edx), OutAtol, OutRtol, "dx");
        AssertClose(cpu[5], Device.Download(edGamma), SumAtol(n * spatial), OutRtol, "dgamma");
        AssertClose(cpu[6], Device.Download(edBeta), SumAtol(n * spatial), OutRtol, "dbeta");
    }

    [Test]
    public void RunningStatisticsNeedMoreThanOneValuePerChannel()
    {
        using var x = Device.Allocate(3);
        using var y = Device.Allocate(3);
        using var s = Device.Allocate(3);
        using var r = Device.Allocate(3);
        using var v = Device.Allocate(3);
        Assert.Throws<ArgumentException>(() => Device.BatchNormForwardTraining(y, s, s, x, null, null, r, v, 1, 3, 1, Eps, Momentum));
        Assert.Throws<ArgumentException>(() => Device.BatchNormForwardTraining(y, s, s, x, null, null, r, null, 3, 1, 1, Eps, Momentum));
    }

    [Test]
    public void ReductionBlockSizeMustBeAMultipleOf32()
    {
        using var x = Device.Allocate(6);
        using var y = Device.Allocate(6);
        using var s = Device.Allocate(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BatchNormForwardTraining(y, s, s, x, null, null, null, null, 2, 3, 1, Eps, Momentum, 48));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BatchNormBackward(y, null, null, x, x, s, s, null, 2, 3, 1, 48));
    }

    /// <summary>x with a different offset and spread per channel, so that mean and variance both matter.</summary>
    private static float[] Input(int seed, int n, int c, int spatial)
    {
        float[] x = Uniform(seed, n * c * spatial);
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int s = 0; s < spatial; s++)
                {
                    int o = (i * c + ch) * spatial + s;
                    x[o] = x[o] * (0.5f + 0.25f * (ch % 4)) + 0.3f * (ch % 3) - 0.2f;
                }
        return x;
    }
}

/// <summary>The seeded inputs of one batch-norm case: x (given), γ, β, the running statistics and dy.</summary>
internal sealed record BatchNormInputs(float[] X, float[] Gamma, float[] Beta, float[] RunMean, float[] RunVar, float[] Dy)
{
    public static BatchNormInputs Seeded(int seed, float[] x, int c) =>
        new(x, Uniform(seed + 1, c, 0.5f, 1.5f), Uniform(seed + 2, c), Uniform(seed + 3, c), Uniform(seed + 4, c, 0.5f, 2f), Uniform(seed + 5, x.Length));
}

/// <summary>
/// The device buffers of a training forward (plain or fused with leaky ReLU): y, saveMean and saveInvStd allocated,
/// x, γ, β and the running statistics uploaded; and the comparison of all of them with the CPU backend's buffers
/// 0 y, 1 saveMean, 2 saveInvStd, 6 runningMean, 7 runningVar.
/// </summary>
internal sealed class TrainingForwardBuffers(BatchNormInputs inputs) : IDisposable
{
    public DeviceMemory Y { get; } = Device.Allocate(inputs.X.Length);
    public DeviceMemory Mean { get; } = Device.Allocate(inputs.Gamma.Length);
    public DeviceMemory InvStd { get; } = Device.Allocate(inputs.Gamma.Length);
    public DeviceMemory X { get; } = Upload(inputs.X);
    public DeviceMemory Gamma { get; } = Upload(inputs.Gamma);
    public DeviceMemory Beta { get; } = Upload(inputs.Beta);
    public DeviceMemory RunMean { get; } = Upload(inputs.RunMean);
    public DeviceMemory RunVar { get; } = Upload(inputs.RunVar);

    public void AssertForwardMatches(float[][] cpu, double statAtol, double statRtol, double outAtol, double outRtol)
    {
        AssertClose(cpu[1], Device.Download(Mean), statAtol, statRtol, "saveMean");
        AssertClose(cpu[2], Device.Download(InvStd), statAtol, statRtol, "saveInvStd");
        AssertClose(cpu[6], Device.Download(RunMean), statAtol, statRtol, "runningMean");
        AssertClose(cpu[7], Device.Download(RunVar), statAtol, statRtol, "runningVar");
        AssertClose(cpu[0], Device.Download(Y), outAtol, outRtol, "y");
    }

    public void Dispose()
    {
        foreach (var b in new[] { Y, Mean, InvStd, X, Gamma, Beta, RunMean, RunVar }) b.Dispose();
    }
}
