
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The direct convolution (thin layers: few output channels or few taps) against the naive definitions of the
/// forward, backward-input and backward-weight passes, on awkward sizes (widths that are no multiple of the SIMD
/// width, strides 1–3, even and odd kernels), float64 and float32.
/// </summary>
[TestFixture, Category("Cpu")]
public class DirectConvTests
{
    // n, cin, h, w, cout, k, stride, pad
    [TestCase(2, 5, 7, 6, 1, 3, 1, 1)]
    [TestCase(3, 1, 9, 9, 6, 3, 2, 1)]
    [TestCase(2, 2, 5, 7, 3, 5, 1, 2)]
    [TestCase(2, 1, 11, 13, 2, 4, 2, 1)]
    [TestCase(1, 1, 10, 11, 5, 3, 3, 0)]
    [TestCase(2, 3, 20, 19, 1, 3, 1, 0)]
    [TestCase(2, 2, 6, 37, 1, 3, 1, 1)]
    [TestCase(3, 32, 8, 8, 1, 3, 1, 1)]
    // The stride-1 tiles (DirectConv.Forward.cs, DirectConv.Weight.cs): rows narrower than one vector, rows of several
    // tiles with inside ones between the edges, 1–4 output channels and more in blocks (4 + 2), Cin·k² ≤ 32 with many
    // outputs, kernel 5 (tap rows in slots of 3 + 2), padding 0, 1 and 2, batches of 1 and 3.
    [TestCase(1, 3, 5, 3, 1, 3, 1, 1)]
    [TestCase(3, 2, 9, 5, 2, 3, 1, 0)]
    [TestCase(1, 4, 11, 70, 3, 3, 1, 1)]
    [TestCase(3, 2, 8, 37, 4, 5, 1, 2)]
    [TestCase(1, 1, 12, 41, 6, 5, 1, 2)]
    [TestCase(3, 3, 10, 19, 1, 5, 1, 1)]
    [TestCase(1, 6, 13, 66, 1, 3, 1, 2)]
    [TestCase(2, 3, 9, 21, 5, 3, 1, 1)]
    [TestCase(3, 2, 4, 12, 1, 3, 1, 1)]
    // Three channels in pairs of side-by-side tiles (where 32 vector registers allow): a row exactly one pair wide,
    // rows of two pairs and more with the last flush (kernel 5, padding 2), a row just short of a pair (single tiles).
    [TestCase(2, 3, 6, 64, 3, 3, 1, 1)]
    [TestCase(1, 2, 7, 131, 3, 5, 1, 2)]
    [TestCase(2, 2, 5, 63, 3, 3, 1, 1)]
    // Backward weight, three channels × a whole 3 × 3 kernel a tile: padding 0 and 2 (the input rows before and after
    // those all three tap rows meet), images of 1–2 rows (none such), 6 channels (two tiles) and 5 (a tile + 2 slots).
    [TestCase(2, 3, 4, 19, 6, 3, 1, 0)]
    [TestCase(1, 2, 3, 11, 3, 3, 1, 2)]
    [TestCase(2, 2, 2, 9, 5, 3, 1, 1)]
    [TestCase(1, 1, 1, 12, 3, 3, 1, 2)]
    // Stride 2 from the phases in the same tiles: rows as wide as a tile and wider (inside), narrower (clipped).
    [TestCase(2, 1, 7, 37, 5, 3, 2, 1)]
    [TestCase(1, 3, 6, 70, 4, 3, 2, 1)]
    // Backward weight by phases with another kernel than 3 × 3 (16 taps) over rows of vectors and a tail.
    [TestCase(2, 1, 9, 40, 3, 4, 2, 1)]
    public void MatchesDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        Assert.That(DirectConv<double>.Suits(g), Is.True, "the case should take the direct path");
        var rng = new Random(n * 1000 + cin * 100 + cout * 10 + k);
        double[] x = Random(rng, g.InputLength), wt = Random(rng, g.WeightLength), b = Random(rng, cout), dy = Random(rng, g.OutputLength);
        var (y, dx, dw, db) = Naive(x, wt, b, dy, g);

        var y64 = new double[g.OutputLength];
        DirectConv<double>.Forward(y64, x, wt, b, g);
        Reference.AssertClose(y64, y, 1e-12, 1e-12, "forward float64");
        var dw64 = new double[g.WeightLength];
        var db64 = new double[cout];
        DirectConv<double>.BackwardWeight(dw64, db64, dy, x, g);
        Reference.AssertClose(dw64, dw, 1e-12, 1e-12, "backward weight float64");
        Reference.AssertClose(db64, db, 1e-12, 1e-12, "backward bias float64");

        var y32 = new float[g.OutputLength];
        DirectConv<float>.Forward(y32, F(x), F(wt), F(b), g);
        Reference.AssertClose(D(y32), y, 1e-4, 1e-4, "forward float32");
        var dw32 = new float[g.WeightLength];
        var db32 = new float[cout];
        DirectConv<float>.BackwardWeight(dw32, db32, F(dy), F(x), g);
        Reference.AssertClose(D(dw32), dw, 1e-4, 1e-4, "backward weight float32");
        Reference.AssertClose(D(db32), db, 1e-4, 1e-4, "backward bias float32");

        if (DirectConv<double>.SuitsBackwardInput(g))
        {
            var dx64 = new double[g.InputLength];
            DirectConv<double>.BackwardInput(dx64, dy, wt, g);
            Reference.AssertClose(dx64, dx, 1e-12, 1e-12, "backward input float64");
            var dx32 = new float[g.InputLength];
            DirectConv<float>.BackwardInput(dx32, F(dy), F(wt), g);
            Reference.AssertClose(D(dx32), dx, 1e-4, 1e-4, "backward input float32");
        }
        else
        {
            Assert.That(stride, Is.GreaterThan(1), "stride-1 thin layers take the direct backward-input path");
        }
    }

    // The sums' order is fixed by the geometry alone (tiles, image chunks), never by the threads: bit-identical results.
    [TestCase(3, 5, 9, 70, 3, 3, 1, 1)]
    [TestCase(17, 3, 6, 13, 1, 3, 1, 1)]
    public void SameResultsOnAnyThreadCount(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        var rng = new Random(3);
        float[] x = F(Random(rng, g.InputLength)), wt = F(Random(rng, g.WeightLength)), b = F(Random(rng, cout)), dy = F(Random(rng, g.OutputLength));
        var (one, three) = ThreadCount.OneAndThree(() =>
        {
            var y = new float[g.OutputLength];
            DirectConv<float>.Forward(y, x, wt, b, g);
            var dw = new float[g.WeightLength];
            DirectConv<float>.BackwardWeight(dw, null, dy, x, g);
            var dx = new float[g.InputLength];
            DirectConv<float>.BackwardInput(dx, dy, wt, g);
            return (y, dw, dx);
        });
        Assert.That(three.y, Is.EqualTo(one.y), "forward");
        Assert.That(three.dw, Is.EqualTo(one.dw), "backward weight");
        Assert.That(three.dx, Is.EqualTo(one.dx), "backward input");
    }

    // 16 → 4 channels: forward and weights go direct (4 outputs), but dx has 4·9 taps per value and 16 channels,
    // so backward-input stays with im2col; a 1-input-channel layer's dx is thin (one output channel) and goes direct.
    [Test]
    public void BackwardInputChoosesItsOwnPath()
    {
        var mixed = ConvGeometry.ForConv(2, 16, 9, 10, 4, 3, 3, 1, 1);
        Assert.That(DirectConv<double>.Suits(mixed), Is.True);
        Assert.That(DirectConv<double>.SuitsBackwardInput(mixed), Is.False);
        Assert.That(DirectConv<double>.SuitsBackwardInput(ConvGeometry.ForConv(2, 1, 9, 10, 40, 3, 3, 1, 1)), Is.True);
        Assert.That(DirectConv<double>.SuitsBackwardInput(ConvGeometry.ForConv(2, 1, 9, 10, 40, 3, 3, 2, 1)), Is.False, "stride 2");
        CheckBackend(mixed);
    }

    // A decoder's last layer (32 → 1 channel, k3 s1 p1) through the public backend, against the definition.
    [Test]
    public void BackendUsesTheDirectPathWithTheSameResults() => CheckBackend(ConvGeometry.ForConv(2, 32, 12, 12, 1, 3, 3, 1, 1));

    private static void CheckBackend(ConvGeometry g)
    {
        var rng = new Random(7);
        double[] x = Random(rng, g.InputLength), wt = Random(rng, g.WeightLength), b = Random(rng, g.OutChannels), dy = Random(rng, g.OutputLength);
        var (y, dx, dw, db) = Naive(x, wt, b, dy, g);
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(DType.Float64, v.Length); be.Upload(buf, v); return buf; }
        double[] Down(BackendBuffer buf) { var v = new double[buf.Length]; be.Download(buf, v); return v; }
        var (bx, bw, bb, bdy) = (Up(x), Up(wt), Up(b), Up(dy));
        var by = be.Allocate(DType.Float64, g.OutputLength);
        be.Conv2dForward(by, bx, bw, bb, g);
        Reference.AssertClose(Down(by), y, 1e-12, 1e-12, "forward");
        var bdx = be.Allocate(DType.Float64, g.InputLength);
        be.Conv2dBackwardInput(bdx, bdy, bw, g);
        Reference.AssertClose(Down(bdx), dx, 1e-12, 1e-12, "backward input");
        var (bdw, bdb) = (be.Allocate(DType.Float64, g.WeightLength), be.Allocate(DType.Float64, g.OutChannels));
        be.Conv2dBackwardWeight(bdw, bdb, bdy, bx, g);
        Reference.AssertClose(Down(bdw), dw, 1e-12, 1e-12, "backward weight");
        Reference.AssertClose(Down(bdb), db, 1e-12, 1e-12, "backward bias");
    }

    internal static (double[] Y, double[] Dx, double[] Dw, double[] Db) Naive(double[] x, double[] w, double[] b, double[] dy, ConvGeometry g)
    {
        // Per-axis strides and paddings (a uniform geometry is the special case), so the im2col tests can use it too.
        var y = new double[g.OutputLength];
        var dx = new double[g.InputLength];
        var dw = new double[g.WeightLength];
        var db = new double[g.OutChannels];
        for (int n = 0; n < g.N; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        int yi = ((n * g.OutChannels + co) * g.OutH + oh) * g.OutW + ow;
                        double d = dy[yi];
                        db[co] += d;
                        y[yi] += b[co];
                        for (int ci = 0; ci < g.InChannels; ci++)
                            for (int u = 0; u < g.KernelH; u++)
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int ih = oh * g.StrideH - g.PaddingH + u, iw = ow * g.StrideW - g.PaddingW + v;
                                    if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                                    int xi = ((n * g.InChannels + ci) * g.InH + ih) * g.InW + iw;
                                    int wi = ((co * g.InChannels + ci) * g.KernelH + u) * g.KernelW + v;
                                    y[yi] += x[xi] * w[wi];
                                    dx[xi] += d * w[wi];
                                    dw[wi] += d * x[xi];
                                }
                    }
        return (y, dx, dw, db);
    }

    internal static double[] Random(Random rng, int length)
    {
        var v = new double[length];
        for (int i = 0; i < length; i++) v[i] = rng.NextDouble() * 2 - 1;
        return v;
    }

    private static float[] F(double[] v) => Array.ConvertAll(v, d => (float)d);

    private static double[] D(float[] v) => Array.ConvertAll(v, f => (double)f);
}
