using BlurVae.Training.SelfTest;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The batch statistics in the convolution kernels' epilogue (conv_gemm.cuh: conv_tile_statistics and
/// conv_statistics_finish) on every kernel of the forward and backward-input passes, with and without split-K and on
/// phases of unequal size: against the two-pass statistics (float64) of the output the same launch wrote, so only the
/// statistics' own rounding is measured (Tolerance.OfBatchStatistics); the output itself against the CPU backend.
/// And the BatchNorm (+ LeakyReLU) training forward that takes those statistics, at several block sizes, against
/// the CPU backend given the same statistics.
/// </summary>
[TestFixture, Category("Parity")]
public class ConvStatisticsParityTests
{
    /// <summary>A transposed k3 s2 convolution whose four phases differ in size (9×9, 9×8, 8×9, 8×8 per image), so the
    /// smaller phases leave tiles of the grid empty, and whose K (4 taps × 64 channels) can be split: the empty tiles'
    /// single arrival at the statistics ticket, with and without split-K.</summary>
    internal static readonly ConvGeometry UnevenPhases = ConvGeometry.ForTransposed(2, 64, 9, 9, 6, 3, 3, 2, 1, 0);

    public static IEnumerable<ConvGeometry> Geometries() => Conv2dParityTests.Geometries().Append(UnevenPhases);

    public static IEnumerable<ConvAlgorithm> Algorithms() => Conv2dParityTests.Algorithms();

    [Test, Combinatorial]
    public void ForwardStatistics([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Algorithms))] ConvAlgorithm a)
    {
        int seed = g.GetHashCode() ^ a.GetHashCode() * 43;
        float[] x = Uniform(seed, g.InputLength, -0.5f, 1f), w = Uniform(seed + 1, g.WeightLength), bias = Uniform(seed + 2, g.OutChannels);
        float[][] cpu = OnCpu(b => CpuBackend.Instance.Conv2dForward(b[0], b[1], b[2], b[3], g, b[4]),
                              new float[g.OutputLength], x, w, bias, new float[2 * g.OutChannels]);
        using var by = Upload(Uniform(seed + 3, g.OutputLength));
        using var stats = Upload(Uniform(seed + 4, 2 * g.OutChannels)); // garbage: every channel's pair must be written
        using var bx = Upload(x);
        using var bw = Upload(w);
        using var bb = Upload(bias);
        Device.Conv2dForward(by, bx, bw, bb, g, a, stats);
        float[] y = Device.Download(by);
        AssertClose(cpu[0], y, Tolerance.OfConv(g.InChannels * g.KernelH * g.KernelW, a.Math), $"y ({a})");
        AssertStatisticsOf(y, Device.Download(stats), g.N, g.OutChannels, g.OutH * g.OutW, $"statistics ({a})");
        // And the CPU's own statistics of its own y, a second path to the same numbers.
        AssertStatisticsOf(cpu[0], cpu[4], g.N, g.OutChannels, g.OutH * g.OutW, "CPU statistics");
    }

    [Test, Combinatorial]
    public void BackwardInputStatistics([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Algorithms))] ConvAlgorithm a)
    {
        int seed = g.GetHashCode() ^ a.GetHashCode() * 47;
        bool withBias = a.Splits == 1 ^ g.N % 2 == 1;
        float[] dy = Uniform(seed, g.OutputLength, -0.5f, 1f), w = Uniform(seed + 1, g.WeightLength), bias = Uniform(seed + 2, g.InChannels);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dBackwardInput(b[0], b[1], b[2], g, withBias ? b[3] : null),
                                 new float[g.InputLength], dy, w, bias)[0];
        using var bdx = Upload(Uniform(seed + 3, g.InputLength));
        using var stats = Upload(Uniform(seed + 4, 2 * g.InChannels));
        using var bdy = Upload(dy);
        using var bw = Upload(w);
        using var bb = Upload(bias);
        Device.Conv2dBackwardInput(bdx, bdy, bw, g, a, withBias ? bb : null, stats);
        float[] dx = Device.Download(bdx);
        AssertClose(expected, dx, Tolerance.OfConv(g.OutChannels * g.KernelH * g.KernelW, a.Math), $"dx ({a})");
        AssertStatisticsOf(dx, Device.Download(stats), g.N, g.InChannels, g.InH * g.InW, $"statistics ({a})");
    }

    // The statistics' tickets (one per row band, after the split-K ones) are reset by the last block: launches in a
    // row find them at zero and give the same bits, whichever tile finishes last.
    [Test]
    public void StatisticsTicketsAreResetForTheNextLaunch()
    {
        var g = ConvGeometry.ForTransposed(3, 9, 6, 5, 70, 4, 4, 2, 1, 0); // 70 output channels: two row bands of the 64×32 tile
        var a = new ConvAlgorithm(ConvTile.Small, MathPrecision.Fp32, 3);
        Assert.That(GpuDevice.ConvLaunch(ConvPass.BackwardInput, g, a).Grid.Y, Is.EqualTo(2));
        using var bdy = Upload(Uniform(1, g.OutputLength));
        using var bw = Upload(Uniform(2, g.WeightLength));
        using var bdx = Device.Allocate(g.InputLength);
        using var stats = Device.Allocate(2 * g.InChannels);
        float[]? first = null;
        for (int run = 0; run < 3; run++)
        {
            Device.Conv2dBackwardInput(bdx, bdy, bw, g, a, statistics: stats);
            float[] now = Device.Download(stats);
            if (first is null) first = now;
            else Assert.That(now, Is.EqualTo(first), $"run {run}");
        }
    }

    [Test]
    public void TheUnevenPhasesCaseHasEmptyTilesAndSplits()
    {
        var a = new ConvAlgorithm(ConvTile.Small, MathPrecision.Fp32, 3);
        var (grid, _, splits, _) = GpuDevice.ConvLaunch(ConvPass.BackwardInput, UnevenPhases, a);
        int smallestPhaseColumns = UnevenPhases.N * 8 * 8;
        Assert.That(splits, Is.GreaterThan(1));
        Assert.That((int)grid.X * 32, Is.GreaterThan(smallestPhaseColumns + 32), "tiles past the smallest phase's columns");
    }

    [Test]
    public void AShortStatisticsBufferIsRefused()
    {
        var g = ConvGeometry.ForConv(1, 2, 5, 5, 3, 3, 3, 1, 1);
        using var bx = Upload(Uniform(1, g.InputLength));
        using var bw = Upload(Uniform(2, g.WeightLength));
        using var by = Device.Allocate(g.OutputLength);
        using var stats = Device.Allocate(2 * g.OutChannels - 1);
        var e = Assert.Throws<ArgumentException>(() => Device.Conv2dForward(by, bx, bw, null, g, statistics: stats));
        Assert.That(e!.Message, Does.Contain("statistics"));
    }

    // (n, c, spatial) as BatchNormLeakyReluParityTests; the statistics the CPU's of x, given to both sides.
    private static readonly int[][] Shapes = [[2, 3, 1], [3, 5, 7], [3, 17, 33], [1, 4, 1000], [5, 3, 61]];

    [Test, Combinatorial]
    public void BatchNormTakesTheStatistics([ValueSource(nameof(Shapes))] int[] shape, [Values(32, 96, 256)] int block, [Values] bool leaky)
    {
        const double Eps = 1e-5, Momentum = 0.1, Slope = 0.2;
        int n = shape[0], c = shape[1], spatial = shape[2], total = n * c * spatial;
        int seed = 31 * total + block + (leaky ? 1 : 0);
        var inputs = BatchNormInputs.Seeded(seed, Uniform(seed, total, -1.5f, 2.5f), c);
        var (x, gamma, beta, runMean, runVar, _) = inputs;
        float[] statistics = new float[2 * c];
        for (int ch = 0; ch < c; ch++)
        {
            var (mean, sq, _) = BackendParity.ChannelStatistics(Array.ConvertAll(x, v => (double)v), n, c, spatial, ch);
            (statistics[2 * ch], statistics[2 * ch + 1]) = ((float)mean, (float)sq);
        }
        // CPU: 0 y, 1 saveMean, 2 saveInvStd, 3 x, 4 gamma, 5 beta, 6 runningMean, 7 runningVar, 8 statistics.
        var cpu = OnCpu(b =>
        {
            if (leaky) CpuBackend.Instance.BatchNormLeakyReluForwardTraining(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], n, c, spatial, Eps, Momentum, Slope, b[8]);
            else CpuBackend.Instance.BatchNormForwardTraining(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], n, c, spatial, Eps, Momentum, b[8]);
        }, new float[total], new float[c], new float[c], x, gamma, beta, runMean, runVar, statistics);

        using var e = new TrainingForwardBuffers(inputs);
        using var stats = Upload(statistics);
        if (leaky) Device.BatchNormLeakyReluForward(e.Y, e.Mean, e.InvStd, e.X, e.Gamma, e.Beta, e.RunMean, e.RunVar, n, c, spatial, Eps, Momentum, Slope, block, stats);
        else Device.BatchNormForwardTraining(e.Y, e.Mean, e.InvStd, e.X, e.Gamma, e.Beta, e.RunMean, e.RunVar, n, c, spatial, Eps, Momentum, block, stats);
        // Both sides do the same few float32 operations per channel from the same statistics: a few ulps.
        e.AssertForwardMatches(cpu, 1e-6, 1e-6, 1e-5, 1e-5);
    }

    private static void AssertStatisticsOf(float[] y, float[] stats, int n, int c, int spatial, string what)
    {
        var values = Array.ConvertAll(y, v => (double)v);
        for (int ch = 0; ch < c; ch++)
        {
            var (mean, sq, max) = BackendParity.ChannelStatistics(values, n, c, spatial, ch);
            var tol = Tolerance.OfBatchStatistics(n * spatial, max);
            Assert.That(stats[2 * ch], Is.EqualTo(mean).Within(tol.For(mean)), $"{what}: mean of channel {ch}");
            Assert.That(stats[2 * ch + 1], Is.EqualTo(sq).Within(tol.For(sq)), $"{what}: centred sum of squares of channel {ch}");
        }
    }
}
