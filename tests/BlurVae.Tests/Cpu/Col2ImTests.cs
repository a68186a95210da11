namespace BlurVae.Tests.Cpu;

/// <summary>
/// The col2im by phases (Cpu/CpuBackend.Col2Im.cs) that finishes every stride &gt; 1 input gradient and transposed
/// convolution: against the naive definition in float64 and float32 on awkward sizes (odd sides so the phases differ
/// in size, kernels 3–5, strides 2 and 3, padding 0–2, batches of 1 and 3, one whole-batch GEMM or
/// 2 and 3 image chunks), per-axis strides, and independent of the thread count. Transposed convolutions with
/// output padding: PhasedConvTests.TransposedConvolutionMatchesReference, on both paths.
/// </summary>
[TestFixture, Category("Cpu")]
public class Col2ImTests
{
    // n, cin, h, w, cout, k, stride, pad
    [TestCase(1, 6, 9, 7, 8, 3, 2, 1)]     // one image, one whole-batch GEMM
    [TestCase(3, 5, 11, 8, 7, 3, 2, 0)]    // odd and even sides: phases of 6/5 rows and 4/4 columns
    [TestCase(3, 6, 10, 13, 9, 4, 2, 2)]   // padding 2
    [TestCase(3, 5, 14, 11, 6, 5, 3, 2)]   // k5 s3: nine phases of 2×2 down to 1×1 taps
    [TestCase(3, 4, 13, 10, 6, 5, 2, 1)]   // k5 s2: 3×3, 3×2, 2×3 and 2×2 taps
    [TestCase(2, 16, 63, 65, 5, 3, 2, 1)]  // column matrix > 512 KiB per image: 2 chunks of one image
    [TestCase(3, 8, 70, 71, 5, 5, 3, 2)]   // 3 chunks (an odd count)
    [TestCase(3, 16, 4, 4, 32, 3, 2, 1)]   // the deep layers' 4×4 → 2×2: phase rows of 2 pixels
    public void InputGradientMatchesDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        var rng = new Random(n * 31 + cin * 7 + k + h);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        var expected = NaiveInputGradient(wt, dy, g);
        Reference.AssertClose(InputGradient(g, DType.Float64, wt, dy), expected, 1e-12, 1e-12, "float64");
        Reference.AssertClose(InputGradient(g, DType.Float32, wt, dy), expected, 1e-4, 1e-4, "float32");
    }

    // A stride and padding per axis (Inception's): phases by rows only, by columns only, or different in each.
    [TestCase(2, 1, 1, 0, 3, 5)]
    [TestCase(1, 3, 0, 2, 5, 3)]
    [TestCase(2, 3, 1, 1, 4, 4)]
    public void PerAxisStridesMatchDefinition(int strideH, int strideW, int padH, int padW, int kh, int kw)
    {
        var g = ConvGeometry.ForConv(3, 5, 11, 10, 6, kh, kw, strideH, strideW, padH, padW);
        var rng = new Random(strideH * 5 + strideW);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        var expected = NaiveInputGradient(wt, dy, g);
        Reference.AssertClose(InputGradient(g, DType.Float64, wt, dy), expected, 1e-12, 1e-12, "float64");
        Reference.AssertClose(InputGradient(g, DType.Float32, wt, dy), expected, 1e-4, 1e-4, "float32");
    }

    // The shifted-vector col2im (Cpu/CpuBackend.Col2Im.Shifted.cs) against the tap table and phase rows it replaces,
    // bit for bit (same sums in the same order), and against the definition: planes whose sides are stride × the
    // output's, 2×2 up to 32×32, odd output widths (runs that straddle images), batches whose columns are no whole
    // number of vectors, one whole-batch GEMM or several chunks, kernels smaller than the stride (phases no tap
    // reaches), and per-axis strides.
    // n, cin, h, w, cout, kh, kw, strideH, strideW, padH, padW
    [TestCase(3, 6, 4, 4, 8, 3, 3, 2, 2, 1, 1)]     // k3 s2: 4×4 → 2×2, 12 columns (not a whole vector)
    [TestCase(5, 4, 2, 2, 8, 4, 4, 2, 2, 1, 1)]     // k4 s2 (transposed 1×1 → 2×2): one column per image
    [TestCase(3, 5, 6, 10, 7, 3, 3, 2, 2, 1, 1)]    // 3×5 output: odd width, a period of 120 columns
    [TestCase(2, 3, 14, 14, 4, 4, 4, 2, 2, 1, 1)]   // 7×7 output: a period of 392 columns (8 images)
    [TestCase(7, 5, 16, 16, 9, 3, 3, 2, 2, 1, 1)]   // 16×16 → 8×8 (the off switch: the table in float32, phase rows in float64)
    [TestCase(2, 3, 32, 32, 4, 4, 4, 2, 2, 1, 1)]   // 32×32 (16×16 output): the largest with whole-plane masks; off: phase rows
    [TestCase(3, 2, 64, 48, 3, 4, 4, 2, 2, 1, 1)]   // 32×24 output: masks by rows (period 768 > 512), 3 whole vectors per row
    [TestCase(2, 2, 66, 64, 3, 3, 3, 2, 2, 1, 1)]   // 33×32 output by rows: an odd row count
    [TestCase(40, 8, 16, 16, 6, 4, 4, 2, 2, 1, 1)]  // several image chunks
    [TestCase(3, 4, 9, 12, 5, 5, 5, 3, 3, 1, 1)]    // k5 s3: nine phases
    [TestCase(3, 4, 8, 6, 5, 1, 1, 2, 2, 0, 0)]     // k1 s2: three phases get no tap
    [TestCase(3, 4, 8, 9, 5, 3, 4, 2, 3, 1, 1)]     // per-axis strides and kernels
    public void ShiftedPlanesMatchTableAndPhaseRowsExactly(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Assert.That(CpuBackend.UsesShiftedCol2Im(g, dtype), Is.True, $"{dtype}: the case should take the shifted path");
        var rng = new Random(n * 17 + h * 5 + kw);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        var expected = NaiveInputGradient(wt, dy, g);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var shifted = InputGradient(g, dtype, wt, dy);
            double[] table;
            CpuBackend.Col2ImShiftedPlanes = false;
            try { table = InputGradient(g, dtype, wt, dy); }
            finally { CpuBackend.Col2ImShiftedPlanes = true; }
            Assert.That(shifted, Is.EqualTo(table), $"{dtype}: shifted against the table / phase rows");
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-4;
            Reference.AssertClose(shifted, expected, tol, tol, dtype.ToString());
        }
    }

    // Where the shifted path does not apply: an odd side (phases of unequal size), or a period over 512 columns
    // with output rows that are no whole number of vectors.
    [TestCase(9, 8)]
    [TestCase(70, 68)]
    public void ShiftedPathNeedsEqualPhasesAndSmallPlanes(int h, int w)
    {
        var g = ConvGeometry.ForConv(2, 3, h, w, 4, 4, 4, 2, 1);
        Assert.That(CpuBackend.UsesShiftedCol2Im(g, DType.Float32), Is.False);
        Assert.That(CpuBackend.UsesShiftedCol2Im(ConvGeometry.ForConv(2, 3, 8, 8, 4, 4, 4, 2, 1), DType.Float32), Is.True);
    }

    [TestCase(3, 8, 70, 71, 5, 5, 3, 2)] // 3 image chunks
    [TestCase(5, 16, 8, 8, 32, 3, 2, 1)] // one whole-batch GEMM, channels split over the threads (shifted path)
    public void ResultsDoNotDependOnTheThreadCount(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        var rng = new Random(7);
        double[] wt = DirectConvTests.Random(rng, g.WeightLength), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (one, three) = ThreadCount.OneAndThree(() => InputGradient(g, DType.Float32, wt, dy));
        Assert.That(three, Is.EqualTo(one));
    }

    // dx[n, ci, ih, iw] = Σ dy[n, co, oh, ow]·w[co, ci, i, j] over ih = oh·sh − ph + i, iw = ow·sw − pw + j.
    private static double[] NaiveInputGradient(double[] w, double[] dy, ConvGeometry g)
    {
        var dx = new double[g.InputLength];
        for (int n = 0; n < g.N; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        double d = dy[((n * g.OutChannels + co) * g.OutH + oh) * g.OutW + ow];
                        for (int ci = 0; ci < g.InChannels; ci++)
                            for (int i = 0; i < g.KernelH; i++)
                                for (int j = 0; j < g.KernelW; j++)
                                {
                                    int ih = oh * g.StrideH - g.PaddingH + i, iw = ow * g.StrideW - g.PaddingW + j;
                                    if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                                    dx[((n * g.InChannels + ci) * g.InH + ih) * g.InW + iw] += d * w[((co * g.InChannels + ci) * g.KernelH + i) * g.KernelW + j];
                                }
                    }
        return dx;
    }

    private static double[] InputGradient(ConvGeometry g, DType dtype, double[] wt, double[] dy)
    {
        Assert.That(CpuBackend.UsesPhases(g), Is.False, "Auto should take GEMM + col2im");
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
        var dx = be.Allocate(dtype, g.InputLength);
        // Stale values in dx must not leak into the result: col2im writes every pixel, it does not add.
        be.Upload(dx, Enumerable.Repeat(double.NaN, g.InputLength).ToArray());
        be.Conv2dBackwardInput(dx, Up(dy), Up(wt), g);
        var result = new double[dx.Length];
        be.Download(dx, result);
        return result;
    }
}
