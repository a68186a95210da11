namespace BlurVae.Tests.Cpu;

/// <summary>
/// The batch statistics the CPU convolutions gather for the BatchNorm after them (IBackend.Conv2dForward's and
/// Conv2dBackwardInput's `statistics`, Cpu/CpuBackend.ConvStatistics.cs), on every path that writes an output —
/// direct, im2col in chunks, one whole-batch GEMM, phase-split im2col, phases, col2im in chunks and whole — against
/// the two-pass mean and centred sum of squares of the output the same call wrote: float64 to ~1e-12, float32 within
/// its rounding. Each path is asserted to be the one the case means, so a change of routing cannot hollow a case out.
/// </summary>
[TestFixture, Category("Cpu")]
public class ConvStatisticsTests
{
    public static IEnumerable<TestCaseData> Forwards()
    {
        yield return new TestCaseData(ConvGeometry.ForConv(3, 2, 9, 9, 3, 3, 3, 2, 1), true).SetName("Forward direct (3 output channels)");
        yield return new TestCaseData(ConvGeometry.ForConv(20, 16, 8, 8, 8, 3, 3, 1, 1), false).SetName("Forward im2col in chunks");
        yield return new TestCaseData(ConvGeometry.ForConv(2, 16, 4, 4, 8, 3, 3, 2, 1), false).SetName("Forward one whole-batch GEMM");
        yield return new TestCaseData(ConvGeometry.ForConv(4, 8, 34, 33, 9, 3, 3, 2, 1), false).SetName("Forward phase-split im2col, k3 s2");
    }

    [TestCaseSource(nameof(Forwards))]
    public void ForwardStatisticsAreThoseOfTheOutput(ConvGeometry g, bool direct)
    {
        Assert.That(DirectConv<double>.Suits(g), Is.EqualTo(direct));
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var (y, stats) = Run(g, dtype, g.OutputLength, g.OutChannels, (be, o, a, b, bias, s) => be.Conv2dForward(o, a, b, bias, g, s));
            AssertStatistics(y, stats, g.N, g.OutChannels, g.OutH * g.OutW, dtype);
        }
    }

    public static IEnumerable<TestCaseData> BackwardInputs()
    {
        yield return new TestCaseData(ConvGeometry.ForConv(2, 3, 7, 7, 5, 3, 3, 1, 1), StridedInputGradientPath.Auto, true).SetName("Transposed direct (stride 1, 3 channels)");
        yield return new TestCaseData(ConvGeometry.ForTransposed(4, 8, 8, 8, 6, 4, 4, 2, 1, 0), StridedInputGradientPath.Phases, false).SetName("Transposed by phases, k4 s2");
        yield return new TestCaseData(ConvGeometry.ForTransposed(65, 12, 5, 5, 9, 4, 4, 2, 1, 0), StridedInputGradientPath.Phases, false).SetName("Transposed by phases, several chunks");
        yield return new TestCaseData(ConvGeometry.ForTransposed(3, 5, 3, 3, 7, 3, 3, 2, 1, 1), StridedInputGradientPath.Phases, false).SetName("Transposed by uneven phases, k3 s2");
        yield return new TestCaseData(ConvGeometry.ForConv(20, 8, 8, 8, 16, 3, 3, 1, 1), StridedInputGradientPath.Auto, false).SetName("Transposed col2im in chunks");
        yield return new TestCaseData(ConvGeometry.ForTransposed(2, 16, 2, 2, 8, 4, 4, 2, 1, 0), StridedInputGradientPath.Col2Im, false).SetName("Transposed col2im whole batch");
    }

    [TestCaseSource(nameof(BackwardInputs))]
    public void BackwardInputStatisticsAreThoseOfTheOutputWithItsBias(ConvGeometry g, StridedInputGradientPath path, bool direct)
    {
        var saved = CpuBackend.StridedInputGradient;
        try
        {
            CpuBackend.StridedInputGradient = path;
            Assert.That(DirectConv<double>.SuitsBackwardInput(g), Is.EqualTo(direct));
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            {
                var (dx, stats) = Run(g, dtype, g.InputLength, g.InChannels, (be, o, a, b, bias, s) => be.Conv2dBackwardInput(o, a, b, g, bias, s));
                AssertStatistics(dx, stats, g.N, g.InChannels, g.InH * g.InW, dtype);
            }
        }
        finally
        {
            CpuBackend.StridedInputGradient = saved;
        }
    }

    [Test]
    public void AStatisticsBufferOfTheWrongLengthIsRefused()
    {
        var g = ConvGeometry.ForConv(2, 3, 5, 5, 4, 3, 3, 1, 1);
        var be = CpuBackend.Instance;
        var e = Assert.Throws<ArgumentException>(() => be.Conv2dForward(be.Allocate(DType.Float32, g.OutputLength), be.Allocate(DType.Float32, g.InputLength),
            be.Allocate(DType.Float32, g.WeightLength), null, g, be.Allocate(DType.Float32, g.OutChannels)));
        Assert.That(e!.Message, Does.Contain("statistics"));
    }

    // Runs op(backend, output, operand a (the pass's input), operand b (the weight), bias, statistics) on random operands.
    private static (double[] Output, double[] Stats) Run(ConvGeometry g, DType dtype, int outLength, int channels,
        Action<CpuBackend, BackendBuffer, BackendBuffer, BackendBuffer, BackendBuffer, BackendBuffer> op)
    {
        var be = CpuBackend.Instance;
        var rng = new Random(g.GetHashCode());
        BackendBuffer Up(int n, double shift)
        {
            var buf = be.Allocate(dtype, n);
            be.Upload(buf, Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1 + shift).ToArray());
            return buf;
        }
        int inLength = outLength == g.OutputLength ? g.InputLength : g.OutputLength;
        // Inputs with a mean away from 0 and a bias of its own per channel, so the means are far from zero and unequal.
        var (output, stats) = (be.Allocate(dtype, outLength), be.Allocate(dtype, 2 * channels));
        op(be, output, Up(inLength, 0.3), Up(g.WeightLength, 0.1), Up(channels, 1.5), stats);
        double[] o = new double[outLength], s = new double[2 * channels];
        be.Download(output, o);
        be.Download(stats, s);
        return (o, s);
    }

    private static void AssertStatistics(double[] y, double[] stats, int n, int c, int spatial, DType dtype)
    {
        double rel = dtype == DType.Float64 ? 1e-12 : 2e-5;
        for (int ch = 0; ch < c; ch++)
        {
            var (mean, sq, _) = BlurVae.Training.SelfTest.BackendParity.ChannelStatistics(y, n, c, spatial, ch);
            double std = Math.Sqrt(sq / (n * spatial));
            Assert.That(stats[2 * ch], Is.EqualTo(mean).Within(rel * (Math.Abs(mean) + std)), $"{dtype} mean of channel {ch}");
            Assert.That(stats[2 * ch + 1], Is.EqualTo(sq).Within(rel * sq), $"{dtype} centred sum of squares of channel {ch}");
        }
    }
}
