
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The batch-chunked im2col convolution (batches whose column matrix would not fit the cache, split into chunks of
/// images; a last chunk shorter than the others) against the naive definitions of all three passes, float64 and
/// float32, through the public backend; and its results do not depend on the thread count.
/// </summary>
[TestFixture, Category("Cpu")]
public class ChunkedConvTests
{
    // n, cin, h, w, cout, k, stride, pad: S·Cin·k² large enough for several chunks, odd n for a short last chunk.
    [TestCase(7, 16, 20, 20, 8, 3, 1, 1)]
    [TestCase(7, 16, 24, 24, 12, 4, 2, 1)]
    [TestCase(5, 9, 30, 26, 6, 3, 2, 0)]
    [TestCase(2, 8, 2, 2, 8, 4, 2, 1)] // whole batch (one chunk); taps that fall wholly outside the 2×2 input
    [TestCase(2, 8, 3, 5, 8, 5, 3, 2)]
    public void MatchesDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        Assert.That(DirectConv<double>.Suits(g), Is.False, "the case should take the im2col path");
        var rng = new Random(n * 7 + cin);
        double[] x = DirectConvTests.Random(rng, g.InputLength), wt = DirectConvTests.Random(rng, g.WeightLength);
        double[] b = DirectConvTests.Random(rng, cout), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (y, dx, dw, db) = DirectConvTests.Naive(x, wt, b, dy, g);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-4;
            var r = Run(g, dtype, x, wt, b, dy);
            Reference.AssertClose(r.Y, y, tol, tol, $"forward {dtype}");
            Reference.AssertClose(r.Dx, dx, tol, tol, $"backward input {dtype}");
            Reference.AssertClose(r.Dw, dw, tol, tol, $"backward weight {dtype}");
            Reference.AssertClose(r.Db, db, tol, tol, $"backward bias {dtype}");
        }
    }

    // The col2im by phases (every stride > 1): odd and unequal sides, inputs past the last tap's reach (the last
    // column of 37 at k4 s2 p0, the last two of 29 at k6 s3 p0), stride 3, a batch of one.
    [TestCase(3, 5, 35, 37, 6, 4, 2, 0)]
    [TestCase(2, 4, 31, 18, 5, 4, 2, 0)]
    [TestCase(3, 3, 26, 29, 5, 6, 3, 0)]
    public void PhaseSplitPathsMatchDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        Assert.That(CpuBackend.UsesPhases(g), Is.False, "the case should take the GEMM + col2im path");
        MatchesDefinition(n, cin, h, w, cout, k, stride, pad);
    }

    [TestCase(1, 6, 17, 50, 7, 3, 2, 1)]
    public void LongRowsMatchDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad) =>
        MatchesDefinition(n, cin, h, w, cout, k, stride, pad);

    [Test]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var g = ConvGeometry.ForConv(9, 16, 24, 24, 12, 4, 4, 2, 1);
        var rng = new Random(3);
        double[] x = DirectConvTests.Random(rng, g.InputLength), wt = DirectConvTests.Random(rng, g.WeightLength);
        double[] b = DirectConvTests.Random(rng, 12), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (one, three) = ThreadCount.OneAndThree(() => Run(g, DType.Float32, x, wt, b, dy));
        Assert.That(three.Y, Is.EqualTo(one.Y));
        Assert.That(three.Dx, Is.EqualTo(one.Dx));
        Assert.That(three.Dw, Is.EqualTo(one.Dw));
        Assert.That(three.Db, Is.EqualTo(one.Db));
    }

    internal static (double[] Y, double[] Dx, double[] Dw, double[] Db) Run(ConvGeometry g, DType dtype, double[] x, double[] wt, double[] b, double[] dy)
    {
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
        double[] Down(BackendBuffer buf) { var v = new double[buf.Length]; be.Download(buf, v); return v; }
        var (bx, bw, bb, bdy) = (Up(x), Up(wt), Up(b), Up(dy));
        var by = be.Allocate(dtype, g.OutputLength);
        be.Conv2dForward(by, bx, bw, bb, g);
        var bdx = be.Allocate(dtype, g.InputLength);
        be.Conv2dBackwardInput(bdx, bdy, bw, g);
        var (bdw, bdb) = (be.Allocate(dtype, g.WeightLength), be.Allocate(dtype, g.OutChannels));
        be.Conv2dBackwardWeight(bdw, bdb, bdy, bx, g);
        return (Down(by), Down(bdx), Down(bdw), Down(bdb));
    }
}
