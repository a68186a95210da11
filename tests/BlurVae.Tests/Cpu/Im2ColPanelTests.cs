
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The im2col passes that pack the GEMM's panels straight from a zero-padded copy of the input (forward: Col,
/// backward weight: Colᵀ; y written through segmented C, dy read as segmented A) against the naive definitions,
/// float64 and float32, at awkward sizes: Cin·k² and the columns not multiples of any panel or block size, the batch
/// as one GEMM or in 2 or an odd number of chunks, stride 1 and 2, padding 0, 1 and 2, per-axis geometry.
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
    public void MatchesDefinition(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int chunks)
    {
        var g = ConvGeometry.ForConv(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw);
        Assert.That(DirectConv<double>.Suits(g), Is.False, "the case should take the im2col path");
        Assert.That(CpuBackend.ImageChunks(g, DType.Float64), Is.EqualTo(chunks), "float64 chunks");
        var rng = new Random(n * 31 + cin * 7 + kw);
        double[] x = DirectConvTests.Random(rng, g.InputLength), wt = DirectConvTests.Random(rng, g.WeightLength);
        double[] b = DirectConvTests.Random(rng, cout), dy = DirectConvTests.Random(rng, g.OutputLength);
        var (y, _, dw, db) = DirectConvTests.Naive(x, wt, b, dy, g);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-4;
            var r = ChunkedConvTests.Run(g, dtype, x, wt, b, dy);
            Reference.AssertClose(r.Y, y, tol, tol, $"forward {dtype}");
            Reference.AssertClose(r.Dw, dw, tol, tol, $"backward weight {dtype}");
            Reference.AssertClose(r.Db, db, tol, tol, $"backward bias {dtype}");
        }
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
