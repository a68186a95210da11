
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The passes that pack the GEMM's panels straight from their input in place (forward: Col of x, backward weight:
/// Colᵀ of x, both with the padding masked out; backward input: dy read as its channel-major [Cout, N·S]; y written
/// through segmented C, dy read as segmented A) against the naive definitions, float64 and float32, at awkward sizes:
/// Cin·k² and the columns not multiples of any panel or block size, the batch as one GEMM or in 2 or an odd number of
/// chunks, stride 1 and 2, padding 0, 1 and 2, odd widths, per-axis geometry; and against the plain GEMM of the
/// stored column matrix, bit for bit.
/// </summary>
[TestFixture, Category("Cpu")]
public class Im2ColPanelTests
{
    // n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, float64 chunks (0: the whole batch in one GEMM)
    [TestCase(3, 31, 15, 17, 13, 3, 3, 1, 1, 1, 1, 2)]  // Cin·k² = 279 crosses KC; S = 255; chunks of 2 + 1 images
    [TestCase(5, 14, 33, 35, 7, 3, 3, 2, 2, 0, 0, 5)]   // S = 16·17; five single-image chunks
    [TestCase(6, 20, 5, 5, 33, 3, 3, 2, 2, 1, 1, 0)]    // 3×3 outputs: segments narrower than a tile
    [TestCase(2, 8, 2, 2, 8, 4, 4, 2, 2, 1, 1, 0)]      // 1×1 output; taps wholly outside the 2×2 input
    [TestCase(3, 7, 6, 6, 6, 5, 5, 1, 1, 2, 2, 0)]      // padding 2
    [TestCase(4, 9, 12, 11, 10, 3, 2, 2, 1, 1, 0, 0)]   // per-axis: 3×2 kernel, strides 2 and 1, paddings 1 and 0
    [TestCase(7, 12, 9, 30, 9, 1, 7, 1, 1, 0, 3, 4)]    // Inception's 1×7, in chunks of 2, 2, 2 and 1 images
    [TestCase(3, 5, 13, 11, 6, 3, 3, 1, 1, 0, 0, 0)]    // stride 1, padding 0, odd sides: 11×9 outputs, panels across images
    [TestCase(2, 6, 64, 64, 5, 4, 4, 2, 2, 1, 1, 2)]    // the decoder's k4 s2 p1 at 64²: S = 1024, every panel inside one image
    public void MatchesDefinition(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int chunks)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw);
        Assert.That(DirectConv<double>.Suits(g), Is.False, "the case should take the im2col path");
        Assert.That(CpuBackend.ImageChunks(g, DType.Float64), Is.EqualTo(chunks), "float64 chunks");
        var rng = new Random(n * 31 + cin * 7 + kw);
        double[] x = DirectConvTests.Random(rng, g.InputLength), wt = DirectConvTests.Random(rng, g.WeightLength);
        double[] b = DirectConvTests.Random(rng, cout), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (y, dx, dw, db) = DirectConvTests.Naive(x, wt, b, dy, g);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-4;
            var r = ChunkedConvTests.Run(g, dtype, x, wt, b, dy);
            Reference.AssertClose(r.Y, y, tol, tol, $"forward {dtype}");
            if (!CpuBackend.UsesPhases(g)) Reference.AssertClose(r.Dx, dx, tol, tol, $"backward input {dtype}");
            Reference.AssertClose(r.Dw, dw, tol, tol, $"backward weight {dtype}");
            Reference.AssertClose(r.Db, db, tol, tol, $"backward bias {dtype}");
        }
    }

    // The packed panels are the column matrix itself: the forward pass gives the bits of the plain GEMM of w and the
    // stored column matrix (Cin·k² inside one k block, so the chunking cannot change any sum's order), and the
    // whole-batch weight gradient those of the plain GEMM of dy (channel-major) and the stored Colᵀ.
    // n, cin, h, w, cout, k, stride, pad
    [TestCase(3, 5, 9, 7, 6, 3, 2, 1)]     // odd sides, stride 2: 5×4 outputs, panels across images
    [TestCase(4, 4, 11, 13, 5, 3, 1, 0)]   // stride 1, padding 0
    [TestCase(2, 7, 6, 5, 9, 4, 2, 1)]     // the decoder's k4 s2 p1, odd width
    [TestCase(6, 16, 4, 4, 8, 3, 2, 1)]    // the deep layers' 2×2 outputs
    [TestCase(2, 4, 40, 33, 6, 3, 2, 2)]   // padding 2, rows of 17 outputs
    public void PanelsGiveThePlainGemmsBits(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, k, k, stride, pad);
        Assert.That(DirectConv<double>.Suits(g), Is.False, "the case should take the im2col path");
        int kdim = cin * k * k, spatial = g.OutH * g.OutW, cols = n * spatial;
        Assert.That(kdim, Is.LessThanOrEqualTo(256), "Cin·k² inside one k block");
        var rng = new Random(n * 13 + cin * 5 + w);
        double[] x0 = DirectConvTests.Random(rng, g.InputLength), wt0 = DirectConvTests.Random(rng, g.WeightLength);
        double[] dy0 = DirectConvTests.Random(rng, g.OutputLength);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            // The values as the backend stores them, so the reference GEMM multiplies the same numbers.
            double[] Stored(double[] v) => dtype == DType.Float64 ? v : Array.ConvertAll(v, e => (double)(float)e);
            double[] x = Stored(x0), wt = Stored(wt0), dy = Stored(dy0);
            var col = new double[kdim * cols];
            var dyColumns = new double[cout * cols];
            for (int c = 0; c < cols; c++)
            {
                int img = c / spatial, oh = c % spatial / g.OutW, ow = c % g.OutW;
                for (int r = 0; r < kdim; r++)
                {
                    int ci = r / (k * k), ih = oh * stride - pad + r % (k * k) / k, iw = ow * stride - pad + r % k;
                    bool inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                    col[r * cols + c] = inside ? x[((img * cin + ci) * h + ih) * w + iw] : 0;
                }
                for (int co = 0; co < cout; co++) dyColumns[co * cols + c] = dy[(img * cout + co) * spatial + c % spatial];
            }
            var yColumns = Gemm<double>(dtype, false, cout, cols, kdim, wt, col);
            var expectedY = new double[g.OutputLength];
            for (int co = 0; co < cout; co++)
                for (int c = 0; c < cols; c++) expectedY[(c / spatial * cout + co) * spatial + c % spatial] = yColumns[co * cols + c];

            var be = CpuBackend.Instance;
            BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
            double[] Down(BackendBuffer buf) { var v = new double[buf.Length]; be.Download(buf, v); return v; }
            var (bx, bw, bdy, by, bdw) = (Up(x), Up(wt), Up(dy), be.Allocate(dtype, g.OutputLength), be.Allocate(dtype, g.WeightLength));
            be.Conv2dForward(by, bx, bw, null, g);
            Assert.That(Down(by), Is.EqualTo(expectedY), $"forward {dtype}");
            if (CpuBackend.ImageChunks(g, dtype) != 0) continue; // chunked: partial sums per group, not the plain GEMM's order
            be.Conv2dBackwardWeight(bdw, null, bdy, bx, g);
            Assert.That(Down(bdw), Is.EqualTo(Gemm<double>(dtype, true, cout, kdim, cols, dyColumns, col)), $"backward weight {dtype}");
        }
    }

    /// <summary>The plain GEMM a[m x k] · op(b) (b stored k x n, or n x k when transB) in the precision of dtype, widened back.</summary>
    private static double[] Gemm<T>(DType dtype, bool transB, int m, int n, int k, double[] a, double[] b)
    {
        if (dtype == DType.Float64)
        {
            var c = new double[m * n];
            Kernels.Cpu.Gemm.Dgemm(false, transB, m, n, k, 1.0, a, k, b, transB ? k : n, 0.0, c, n, 1);
            return c;
        }
        var cf = new float[m * n];
        Kernels.Cpu.Gemm.Sgemm(false, transB, m, n, k, 1f, Array.ConvertAll(a, e => (float)e), k, Array.ConvertAll(b, e => (float)e),
            transB ? k : n, 0f, cf, n, 1);
        return Array.ConvertAll(cf, e => (double)e);
    }

    // The deep layers' shape (4×4 → 2×2, the whole batch in one GEMM large enough for the helper threads): the same
    // bits on 1 thread and on 3.
    [Test]
    public void TheWholeBatchGemmDoesNotDependOnTheThreadCount()
    {
        var g = ConvGeometry.ForConv(16, 64, 4, 4, 128, 3, 3, 2, 1);
        Assert.That(CpuBackend.ImageChunks(g, DType.Float32), Is.EqualTo(0));
        var rng = new Random(11);
        double[] x = DirectConvTests.Random(rng, g.InputLength), wt = DirectConvTests.Random(rng, g.WeightLength);
        double[] b = DirectConvTests.Random(rng, g.OutChannels), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (one, three) = ThreadCount.OneAndThree(() => ChunkedConvTests.Run(g, DType.Float32, x, wt, b, dy));
        Assert.That(three.Y, Is.EqualTo(one.Y));
        Assert.That(three.Dw, Is.EqualTo(one.Dw));
        Assert.That(three.Db, Is.EqualTo(one.Db));
    }
}
