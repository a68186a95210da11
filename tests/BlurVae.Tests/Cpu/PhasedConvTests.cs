namespace BlurVae.Tests.Cpu;

/// <summary>
/// The phase (sub-pixel) decomposition of stride-s input gradients and transposed convolutions
/// (BlurVae.Kernels/ConvPhases.cs, Cpu/CpuBackend.ConvPhased.cs): the rule itself against a brute-force enumeration
/// of every (input pixel, tap, output pixel) triple, and the CPU pass against the naive definition and against the
/// col2im path on awkward sizes (odd and unequal sides, padding 0/1/2, kernels 2–5, strides 2 and 3, kernels
/// smaller than the stride, so phases no tap reaches).
/// </summary>
[TestFixture, Category("Cpu")]
public class PhasedConvTests
{
    // n, cin, h, w, cout, k, stride, pad
    [TestCase(3, 5, 9, 7, 6, 3, 2, 1)]
    [TestCase(2, 7, 11, 13, 9, 4, 2, 1)]
    [TestCase(3, 6, 8, 9, 10, 4, 2, 0)]
    [TestCase(2, 5, 7, 10, 8, 3, 2, 0)]
    [TestCase(2, 6, 10, 11, 7, 5, 3, 2)]
    [TestCase(2, 6, 9, 8, 7, 2, 3, 0)] // k < s: a third of the phases rows and columns get no tap at all
    [TestCase(65, 9, 5, 5, 12, 4, 2, 1)] // several image chunks with a short last one
    [TestCase(2, 16, 4, 4, 32, 4, 2, 1)] // the decoder's first transposed layer shape (2×2 → 4×4)
    public void InputGradientMatchesDefinitionAndCol2Im(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        Assert.That(DirectConv<double>.SuitsBackwardInput(g), Is.False, "the case should not take the direct path");
        var rng = new Random(n * 31 + cin * 7 + k);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (_, expected, _, _) = DirectConvTests.Naive(new double[g.InputLength], wt, new double[cout], dy, g);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-4;
            Reference.AssertClose(InputGradient(g, dtype, wt, dy, byPhases: true), expected, tol, tol, $"by phases {dtype}");
        }
        Reference.AssertClose(InputGradient(g, DType.Float64, wt, dy, byPhases: false), expected, 1e-12, 1e-12, "col2im float64");
    }

    // The transposed convolution (forward = the input gradient of its geometry) against the reference's definition,
    // by phases and by GEMM + col2im, output padding 0–2, kernels 3–5.
    [TestCase(4, 2, 1, 0)]
    [TestCase(3, 2, 1, 1)]
    [TestCase(4, 2, 0, 1)]
    [TestCase(3, 3, 0, 2)]
    [TestCase(5, 3, 2, 2)]
    [TestCase(5, 2, 2, 1)]
    public void TransposedConvolutionMatchesReference(int k, int stride, int pad, int outPad)
    {
        int n = 3, cin = 6, h = 5, wd = 7, cout = 4;
        var rng = new Random(k * 13 + stride);
        double[] x = DirectConvTests.Random(rng, n * cin * h * wd), wt = DirectConvTests.Random(rng, cin * cout * k * k);
        var expected = Reference.ConvTranspose2d(x, wt, null, n, cin, h, wd, cout, k, stride, pad, outPad, out _, out _);
        var g = ConvGeometry.ForTransposed(n, cin, h, wd, cout, k, k, stride, pad, outPad);
        foreach (bool byPhases in new[] { true, false })
        {
            Reference.AssertClose(InputGradient(g, DType.Float64, wt, x, byPhases), expected, 1e-12, 1e-12, $"transposed, phases {byPhases}, float64");
            Reference.AssertClose(InputGradient(g, DType.Float32, wt, x, byPhases), expected, 1e-4, 1e-4, $"transposed, phases {byPhases}, float32");
        }
    }

    // Every (input pixel, tap) pair whose output pixel exists is reached by exactly one phase, through the output
    // pixel the convolution's definition names, and no phase names anything else.
    [TestCase(9, 7, 3, 2, 1)]
    [TestCase(8, 8, 4, 2, 0)]
    [TestCase(10, 11, 5, 3, 2)]
    [TestCase(9, 8, 2, 3, 0)]
    [TestCase(1, 1, 3, 2, 1)]
    public void PhasesPartitionThePixelTapPairs(int h, int w, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(1, 1, h, w, 1, k, k, stride, pad);
        var seen = new HashSet<(int Ih, int Iw, int I, int J)>();
        for (int p = 0; p < ConvPhases.Count(g); p++)
        {
            var ph = ConvPhases.Of(g, p);
            for (int u = 0; u < ph.Rows; u++)
                for (int v = 0; v < ph.Cols; v++)
                    for (int t = 0; t < ph.TapRows; t++)
                        for (int r = 0; r < ph.TapCols; r++)
                        {
                            int ih = ph.RowStart + stride * u, iw = ph.ColStart + stride * v;
                            int i = ph.PhaseRow + stride * t, j = ph.PhaseCol + stride * r;
                            int oh = ph.OutRow0 + u - t, ow = ph.OutCol0 + v - r;
                            Assert.That(ih < h && iw < w && i < k && j < k, Is.True, $"phase {p} names a pixel or tap outside");
                            Assert.That(oh * stride - pad + i, Is.EqualTo(ih), $"phase {p}: row of tap {i}");
                            Assert.That(ow * stride - pad + j, Is.EqualTo(iw), $"phase {p}: column of tap {j}");
                            if (oh >= 0 && oh < g.OutH && ow >= 0 && ow < g.OutW)
                                Assert.That(seen.Add((ih, iw, i, j)), Is.True, $"({ih},{iw}) tap ({i},{j}) twice");
                        }
        }
        int expected = 0;
        for (int oh = 0; oh < g.OutH; oh++)
            for (int ow = 0; ow < g.OutW; ow++)
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++)
                    {
                        int ih = oh * stride - pad + i, iw = ow * stride - pad + j;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                        {
                            expected++;
                            Assert.That(seen, Does.Contain((ih, iw, i, j)), $"({ih},{iw}) tap ({i},{j}) in no phase");
                        }
                    }
        Assert.That(seen, Has.Count.EqualTo(expected));
    }

    [Test]
    public void AutoTakesCol2ImOnEveryShape()
    {
        Assert.That(CpuBackend.StridedInputGradient, Is.EqualTo(StridedInputGradientPath.Auto));
        Assert.That(CpuBackend.UsesPhases(ConvGeometry.ForTransposed(64, 32, 16, 16, 32, 4, 4, 2, 1, 0)), Is.False, "16 → 32, 16-column phases");
        Assert.That(CpuBackend.UsesPhases(ConvGeometry.ForTransposed(64, 256, 2, 2, 128, 4, 4, 2, 1, 0)), Is.False, "2 → 4");
        Assert.That(CpuBackend.UsesPhases(ConvGeometry.ForConv(64, 64, 32, 32, 128, 3, 3, 2, 1)), Is.False, "k3 s2: uneven phases");
        Assert.That(CpuBackend.UsesPhases(ConvGeometry.ForConv(64, 32, 32, 32, 32, 3, 3, 1, 1)), Is.False, "stride 1");
    }

    [Test]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var g = ConvGeometry.ForConv(9, 12, 15, 13, 16, 4, 4, 2, 1);
        var rng = new Random(5);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        int saved = CpuBackend.Threads;
        try
        {
            CpuBackend.Threads = 1;
            var one = InputGradient(g, DType.Float32, wt, dy, byPhases: true);
            CpuBackend.Threads = 3;
            Assert.That(InputGradient(g, DType.Float32, wt, dy, byPhases: true), Is.EqualTo(one));
        }
        finally
        {
            CpuBackend.Threads = saved;
        }
    }

    private static double[] InputGradient(ConvGeometry g, DType dtype, double[] wt, double[] dy, bool byPhases)
    {
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
        var saved = CpuBackend.StridedInputGradient;
        try
        {
            CpuBackend.StridedInputGradient = byPhases ? StridedInputGradientPath.Phases : StridedInputGradientPath.Col2Im;
            var dx = be.Allocate(dtype, g.InputLength);
            be.Conv2dBackwardInput(dx, Up(dy), Up(wt), g);
            var result = new double[dx.Length];
            be.Download(dx, result);
            return result;
        }
        finally
        {
            CpuBackend.StridedInputGradient = saved;
        }
    }
}
