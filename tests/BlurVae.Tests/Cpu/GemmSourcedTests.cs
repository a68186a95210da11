using System.Numerics;

namespace BlurVae.Tests.Cpu;

/// <summary>
/// The convolutions' GEMM (<see cref="Gemm.Sourced{T}"/>: B's panels from an <see cref="IPanelSource{T}"/>, A and C
/// with their columns in segments, a bias per row) against the plain GEMM of the same matrices, on every micro-kernel
/// this CPU supports: segments that are and are not multiples of the tile, k across the KC block, beta 0 and 1,
/// 1 and 2 threads.
/// </summary>
[TestFixture, Category("Cpu"), NonParallelizable]
public class GemmSourcedTests
{
    private GemmIsa _saved;

    [SetUp]
    public void Save() => _saved = Gemm.Isa;

    [TearDown]
    public void Restore() => Gemm.Isa = _saved;

    /// <summary>Packs a stored row-major matrix (leading dimension ld) the way the interface says: the reference source.</summary>
    private sealed unsafe class StoredPanels<T>(T[] b, int ld) : IPanelSource<T> where T : unmanaged, INumber<T>
    {
        public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
        {
            for (int p = 0; p < nr * ((nc + nr - 1) / nr); p++)
                for (int q = 0; q < kc; q++)
                    dst[p / nr * nr * kc + q * nr + p % nr] = p < nc ? b[(k0 + q) * ld + j0 + p] : T.Zero;
        }
    }

    // m, n, k, A segment length (0: dense), C segment length (0: dense), bias, beta, threads, B's origin in the source
    [TestCase(13, 37, 7, 0, 0, false, 0.0, 1, 0)]
    [TestCase(25, 70, 300, 5, 7, true, 0.0, 1, 3)]      // segments narrower than a tile; k crosses KC
    [TestCase(29, 96, 513, 32, 32, true, 1.0, 2, 0)]    // segments of one AVX-512 float tile; beta = 1 adds
    [TestCase(60, 150, 300, 50, 64, true, 0.0, 2, 5)]   // large enough for the helper threads; the last segment short
    [TestCase(12, 64, 257, 64, 16, false, 1.0, 2, 1)]
    public void MatchesThePlainGemm(int m, int n, int k, int aSeg, int cSeg, bool withBias, double beta, int threads, int origin)
    {
        var rng = new Random(m * 131 + n * 7 + k);
        double[] a = DirectConvTests.Random(rng, m * k), b = DirectConvTests.Random(rng, k * n);
        // The source holds B at (origin, 2·origin) of a larger matrix, as a conv's chunk sits inside the batch's columns.
        int ldSource = n + 2 * origin;
        var source = new double[(k + origin) * ldSource];
        for (int q = 0; q < k; q++) for (int j = 0; j < n; j++) source[(origin + q) * ldSource + 2 * origin + j] = b[q * n + j];
        double[] c0 = DirectConvTests.Random(rng, m * n), bias = DirectConvTests.Random(rng, m);
        // Expected: the plain GEMM (dense), then the bias.
        var expected = (double[])c0.Clone();
        Gemm.Dgemm(false, false, m, n, k, 1.0, a, k, b, n, beta, expected, n, 1);
        if (withBias) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) expected[i * n + j] += bias[i];

        var aLayout = aSeg == 0 ? SegmentedLayout.Dense(k) : SegmentedLayout.Planes(m, aSeg);
        var cLayout = cSeg == 0 ? SegmentedLayout.Dense(n) : SegmentedLayout.Planes(m, cSeg);
        foreach (var isa in GemmTests.SupportedIsas())
        {
            Gemm.Isa = isa;
            var c = Scatter(c0, m, n, cLayout);
            Gemm.Sourced<double>(m, n, k, Scatter(a, m, k, aLayout), aLayout, new StoredPanels<double>(source, ldSource), (origin, 2 * origin), c, cLayout,
                beta, withBias ? bias : default, threads);
            Reference.AssertClose(Gather(c, m, n, cLayout), expected, 1e-12, 1e-12, $"{isa} float64");

            var cf = Array.ConvertAll(Scatter(c0, m, n, cLayout), v => (float)v);
            Gemm.Sourced<float>(m, n, k, Array.ConvertAll(Scatter(a, m, k, aLayout), v => (float)v), aLayout,
                new StoredPanels<float>(Array.ConvertAll(source, v => (float)v), ldSource), (origin, 2 * origin), cf, cLayout, (float)beta,
                withBias ? Array.ConvertAll(bias, v => (float)v) : default, threads);
            Reference.AssertClose(Gather(Array.ConvertAll(cf, v => (double)v), m, n, cLayout), expected, 1e-4 * Math.Sqrt(k), 1e-4, $"{isa} float32");
        }
    }

    // A stored k x m (the backward-input GEMM reads the weights [Cout, kdim] as [kdim, Cout]) against the plain GEMM
    // with transA, bit for bit (the same packed values and sum order), float64 and float32, every micro-kernel.
    // m, n, k, C segment length (0: dense), threads
    [TestCase(13, 37, 7, 0, 1)]
    [TestCase(75, 70, 300, 7, 1)]    // k crosses KC; C segments narrower than a tile
    [TestCase(150, 96, 64, 0, 2)]    // large enough for the helper threads
    public void TransposedAMatchesThePlainGemm(int m, int n, int k, int cSeg, int threads)
    {
        var rng = new Random(m * 17 + n + k);
        double[] at = DirectConvTests.Random(rng, k * m), b = DirectConvTests.Random(rng, k * n);
        var cLayout = cSeg == 0 ? SegmentedLayout.Dense(n) : SegmentedLayout.Planes(m, cSeg);
        foreach (var isa in GemmTests.SupportedIsas())
        {
            Gemm.Isa = isa;
            var expected = new double[m * n];
            Gemm.Dgemm(true, false, m, n, k, 1.0, at, m, b, n, 0.0, expected, n, 1);
            var c = Scatter(new double[m * n], m, n, cLayout);
            Gemm.Sourced<double>(m, n, k, at, SegmentedLayout.Dense(m), new StoredPanels<double>(b, n), (0, 0), c, cLayout, 0.0, default, threads, transA: true);
            Assert.That(Gather(c, m, n, cLayout), Is.EqualTo(expected), $"{isa} float64");

            float[] atf = Array.ConvertAll(at, v => (float)v), bf = Array.ConvertAll(b, v => (float)v);
            var expectedF = new float[m * n];
            Gemm.Sgemm(true, false, m, n, k, 1f, atf, m, bf, n, 0f, expectedF, n, 1);
            var cf = Array.ConvertAll(Scatter(new double[m * n], m, n, cLayout), v => (float)v);
            Gemm.Sourced<float>(m, n, k, atf, SegmentedLayout.Dense(m), new StoredPanels<float>(bf, n), (0, 0), cf, cLayout, 0f, default, threads, transA: true);
            Assert.That(Gather(Array.ConvertAll(cf, v => (double)v), m, n, cLayout), Is.EqualTo(Array.ConvertAll(expectedF, v => (double)v)), $"{isa} float32");
        }
    }

    [Test]
    public void TransposedAMustBeDenseAndLongEnough()
    {
        var source = new StoredPanels<double>(new double[12], 4);
        Assert.Throws<ArgumentException>(() => Gemm.Sourced<double>(2, 4, 3, new double[12], SegmentedLayout.Planes(3, 2), source, (0, 0),
            new double[8], SegmentedLayout.Dense(4), 0.0, default, 1, transA: true));
        // k x m = 3 x 2 needs (3 − 1)·ld + 2 elements with ld = 2: 6, one fewer is refused.
        Assert.Throws<ArgumentException>(() => Gemm.Sourced<double>(2, 4, 3, new double[5], SegmentedLayout.Dense(2), source, (0, 0),
            new double[8], SegmentedLayout.Dense(4), 0.0, default, 1, transA: true));
    }

    // A packed once (PackedA, as a convolution's chunks share the weights) against packing it in every call: the same
    // packed values, so the same bits, on every micro-kernel, float64 and float32, plain and transposed A; m crosses the
    // row block (MC) and k the depth block (KC); a C cut in segments narrower than a tile takes the dense-scratch path;
    // two threads ignore the packed A (the threaded loop packs its own).
    // m, n, k, transposed A, C segment length (0: dense), threads
    [TestCase(13, 37, 7, false, 0, 1)]
    [TestCase(401, 40, 600, false, 0, 1)]
    [TestCase(401, 40, 600, true, 7, 1)]
    [TestCase(150, 96, 300, true, 0, 2)]
    public void PackedAGivesTheSameBits(int m, int n, int k, bool transA, int cSeg, int threads)
    {
        var rng = new Random(m * 7 + n * 3 + k);
        double[] a = DirectConvTests.Random(rng, m * k), b = DirectConvTests.Random(rng, k * n), bias = DirectConvTests.Random(rng, m);
        int lda = transA ? m : k;
        var cLayout = cSeg == 0 ? SegmentedLayout.Dense(n) : SegmentedLayout.Planes(m, cSeg);
        foreach (var isa in GemmTests.SupportedIsas())
        {
            Gemm.Isa = isa;
            Check(a, b, bias);
            Check(Array.ConvertAll(a, v => (float)v), Array.ConvertAll(b, v => (float)v), Array.ConvertAll(bias, v => (float)v));
        }

        void Check<T>(T[] at, T[] bt, T[] biasT) where T : unmanaged, INumber<T>
        {
            var source = new StoredPanels<T>(bt, n);
            var expected = new T[cLayout.Extent(m, n)];
            Gemm.Sourced<T>(m, n, k, at, SegmentedLayout.Dense(lda), source, (0, 0), expected, cLayout, T.Zero, biasT, threads, transA);
            using var packed = PackedA<T>.Of(m, k, at, lda, transA);
            for (int call = 0; call < 2; call++) // reused, as by every chunk
            {
                var c = new T[expected.Length];
                Gemm.Sourced<T>(m, n, k, at, SegmentedLayout.Dense(lda), source, (0, 0), c, cLayout, T.Zero, biasT, threads, transA, packed);
                Assert.That(c, Is.EqualTo(expected), $"{Gemm.Isa} {typeof(T).Name} call {call}");
            }
        }
    }

    [Test]
    public void PackedAMustMatchTheProduct()
    {
        var source = new StoredPanels<double>(new double[12], 4);
        using var packed = PackedA<double>.Of(2, 3, new double[6], 3, transA: false);
        // Another shape, a transposed A, a segmented A: each refused with the reason.
        Assert.Throws<ArgumentException>(() => Gemm.Sourced<double>(3, 4, 2, new double[6], SegmentedLayout.Dense(2), source, (0, 0),
            new double[12], SegmentedLayout.Dense(4), 0.0, default, 1, packedA: packed));
        Assert.Throws<ArgumentException>(() => Gemm.Sourced<double>(2, 4, 3, new double[6], SegmentedLayout.Dense(2), source, (0, 0),
            new double[8], SegmentedLayout.Dense(4), 0.0, default, 1, transA: true, packedA: packed));
        Assert.Throws<ArgumentException>(() => Gemm.Sourced<double>(2, 4, 3, new double[12], SegmentedLayout.Planes(2, 3), source, (0, 0),
            new double[8], SegmentedLayout.Dense(4), 0.0, default, 1, packedA: packed));
        Assert.Throws<ArgumentException>(() => PackedA<double>.Of(2, 3, new double[5], 3, transA: false));
    }

    // A dense rows x cols matrix stored in a layout (cells it does not cover: NaN, so a write there would show).
    private static double[] Scatter(double[] dense, int rows, int cols, SegmentedLayout layout)
    {
        var s = new double[layout.Extent(rows, cols)];
        Array.Fill(s, double.NaN);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) s[Index(layout, i, j)] = dense[i * cols + j];
        return s;
    }

    private static double[] Gather(double[] stored, int rows, int cols, SegmentedLayout layout)
    {
        var d = new double[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) d[i * cols + j] = stored[Index(layout, i, j)];
        return d;
    }

    private static long Index(SegmentedLayout l, int i, int j) =>
        l.Length == 0 ? (long)i * l.Ld + j : (long)(j / l.Length) * l.Stride + (long)i * l.Ld + j % l.Length;
}
