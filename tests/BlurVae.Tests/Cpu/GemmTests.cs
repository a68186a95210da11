
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The CPU GEMM on every micro-kernel this CPU supports (AVX-512, AVX2, scalar: forced through <see cref="Gemm.Isa"/>)
/// against a float64 triple loop, on awkward sizes: edges cut through every micro-tile dimension, k across the KC
/// block, padded leading dimensions, all four transpose cases, alpha/beta of every store mode, 1 and 2 threads.
/// </summary>
[TestFixture, Category("Cpu"), NonParallelizable]
public class GemmTests
{
    private GemmIsa _saved;

    [SetUp]
    public void Save() => _saved = Gemm.Isa;

    [TearDown]
    public void Restore() => Gemm.Isa = _saved;

    public static IEnumerable<GemmIsa> SupportedIsas() =>
        Enum.GetValues<GemmIsa>().Where(isa => isa <= Gemm.BestSupported);

    // m, n, k, transA, transB, alpha, beta, threads
    private static readonly object[] Cases =
    [
        new object[] { 13, 35, 7, false, false, 1.0, 0.0, 1 },
        new object[] { 25, 33, 300, true, false, 0.5, 1.0, 2 },   // k crosses the KC block; beta = 1 adds
        new object[] { 7, 70, 513, false, true, -1.0, 0.25, 2 },  // two KC blocks + 1; beta scales
        new object[] { 131, 97, 65, true, true, 2.0, 0.0, 2 },    // large enough for the multithreaded job
        new object[] { 1, 45, 19, false, false, 1.0, 0.5, 1 },    // m == 1: matrix-vector
        new object[] { 37, 1, 23, true, true, 1.5, 0.0, 2 },      // n == 1: matrix-vector, strided x
        new object[] { 5, 6, 0, false, false, 1.0, 0.5, 1 },      // k == 0: C = beta C
        new object[] { 29, 41, 70, false, true, 0.5, 0.25, 1 },   // 8x8 packing transposes (A scaled) + tails; 29 = 2 x 12 + 5 rows
        new object[] { 32, 64, 40, true, false, 1.0, 1.0, 1 },    // 32 = 2 x 12 + 8 rows: the 8-row edge tile, added to C
        new object[] { 64, 50, 33, false, false, 1.0, 0.0, 2 },   // 64 = 5 x 12 + 4 rows: the 4-row edge tile; columns cut too
    ];

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheDefinitionOnEveryMicroKernel(int m, int n, int k, bool transA, bool transB, double alpha, double beta, int threads)
    {
        var rng = new Random(m * 7919 + n * 31 + k);
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5;
        double[] a = DirectConvTests.Random(rng, (transA ? k : m) * lda);
        double[] b = DirectConvTests.Random(rng, (transB ? n : k) * ldb);
        double[] c0 = DirectConvTests.Random(rng, m * ldc);
        double[] expected = Naive(m, n, k, transA, transB, alpha, a, lda, b, ldb, beta, c0, ldc);

        foreach (var isa in SupportedIsas())
        {
            Gemm.Isa = isa;
            var c64 = (double[])c0.Clone();
            Gemm.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c64, ldc, threads);
            Reference.AssertClose(c64, expected, 1e-12, 1e-12, $"{isa} float64");

            var c32 = Array.ConvertAll(c0, v => (float)v);
            Gemm.Sgemm(transA, transB, m, n, k, (float)alpha, Array.ConvertAll(a, v => (float)v), lda,
                Array.ConvertAll(b, v => (float)v), ldb, (float)beta, c32, ldc, threads);
            Reference.AssertClose(Array.ConvertAll(c32, v => (double)v), expected, 1e-4 * Math.Sqrt(k + 1), 1e-4, $"{isa} float32");
        }
    }

    [Test]
    public void TheMicroKernelsAgreeWithEachOtherOnAConvShapedProduct()
    {
        // [Cout, Cin·k²]·[Cin·k², N·S] of a 3×3 convolution with 64 → 32 channels on 6×6 outputs of 5 images.
        int m = 32, k = 576, n = 180;
        var rng = new Random(5);
        float[] a = Array.ConvertAll(DirectConvTests.Random(rng, m * k), v => (float)v);
        float[] b = Array.ConvertAll(DirectConvTests.Random(rng, k * n), v => (float)v);
        float[]? first = null;
        foreach (var isa in SupportedIsas())
        {
            Gemm.Isa = isa;
            var c = new float[m * n];
            Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n, 2);
            if (first is null) first = c;
            else Reference.AssertClose(Array.ConvertAll(c, v => (double)v), Array.ConvertAll(first, v => (double)v), 1e-4, 1e-5, $"{isa} against scalar");
        }
    }

    [Test]
    public void TheEdgeTilesGiveTheFullTilesBits()
    {
        // Rows 0..m-1 of C do not depend on how many rows follow: the bottom panel's 4-, 6- or 8-row tile runs the
        // same FMA chain per element as the full tile of a taller C (here 48 rows: four full AVX-512 / eight AVX2 tiles).
        int n = 70, k = 300, tall = 48;
        var rng = new Random(11);
        float[] a = Array.ConvertAll(DirectConvTests.Random(rng, tall * k), v => (float)v);
        float[] b = Array.ConvertAll(DirectConvTests.Random(rng, k * n), v => (float)v);
        float[] c0 = Array.ConvertAll(DirectConvTests.Random(rng, tall * n), v => (float)v);
        foreach (var isa in SupportedIsas())
        {
            Gemm.Isa = isa;
            foreach (float beta in new[] { 0f, 1f })
            {
                var full = (float[])c0.Clone();
                Gemm.Sgemm(false, false, tall, n, k, 1f, a, k, b, n, beta, full, n, 1);
                foreach (int m in new[] { 2, 4, 5, 8, 11, 32, 40, 44 }) // (m = 1 takes the matrix-vector path)
                {
                    var c = c0.AsSpan(0, m * n).ToArray();
                    Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, beta, c, n, 1);
                    Assert.That(c, Is.EqualTo(full.AsSpan(0, m * n).ToArray()), $"{isa}, m = {m}, beta = {beta}");
                }
            }
        }
    }

    [Test]
    public void TheIsaVariableCapsTheInstructionSetAndNamesAnIgnoredValue()
    {
        Assert.That(Gemm.IsaFromEnvironment(null, out var note), Is.EqualTo(Gemm.BestSupported));
        Assert.That(note, Is.Null);
        Assert.That(Gemm.IsaFromEnvironment("scalar", out note), Is.EqualTo(GemmIsa.Scalar));
        if (Gemm.BestSupported != GemmIsa.Scalar) Assert.That(note, Does.Contain("BLURVAE_GEMM_ISA"));
        Assert.That(Gemm.IsaFromEnvironment(" AVX2 ", out _), Is.EqualTo(Gemm.BestSupported < GemmIsa.Avx2 ? Gemm.BestSupported : GemmIsa.Avx2));
        Assert.That(Gemm.IsaFromEnvironment("sse9", out note), Is.EqualTo(Gemm.BestSupported));
        Assert.That(note, Does.Contain("'sse9' ignored"));
        if (Gemm.BestSupported < GemmIsa.Avx512)
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Isa = GemmIsa.Avx512);
    }

    private static double[] Naive(int m, int n, int k, bool transA, bool transB, double alpha, double[] a, int lda,
        double[] b, int ldb, double beta, double[] c, int ldc)
    {
        var r = (double[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int q = 0; q < k; q++)
                    s += (transA ? a[q * lda + i] : a[i * lda + q]) * (transB ? b[j * ldb + q] : b[q * ldb + j]);
                r[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
            }
        return r;
    }
}
