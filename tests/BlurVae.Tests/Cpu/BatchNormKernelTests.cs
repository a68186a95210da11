
namespace BlurVae.Tests.Cpu;

/// <summary>
/// The CPU batch-norm kernels, which sweep channel ranges image by image, against the naive per-channel definitions
/// (float64 and float32) on sizes that split the channels over several cores with an uneven last range, and
/// bit-identical whatever the thread count.
/// </summary>
[TestFixture, Category("Cpu")]
public class BatchNormKernelTests
{
    // n, c, spatial: 3·n·spatial below 32 768 so the channels split into ranges of two or more; odd sizes.
    [TestCase(3, 7, 1601)]
    [TestCase(2, 5, 3001)]
    [TestCase(5, 3, 9)]
    // Planes under four vectors (the deep layers' 2×2 and 4×4) take the per-lane path: 1, 4 and 13 values per plane (a
    // vector straddling planes, an odd tail) over channel ranges that split.
    [TestCase(7, 1000, 4)]
    [TestCase(9, 301, 13)]
    [TestCase(50, 700, 1)]
    public void MatchesDefinition(int n, int c, int spatial)
    {
        var rng = new Random(n + c);
        double[] x = DirectConvTests.Random(rng, n * c * spatial), dy = DirectConvTests.Random(rng, n * c * spatial);
        double[] gamma = DirectConvTests.Random(rng, c), beta = DirectConvTests.Random(rng, c);
        var expected = Naive(x, dy, gamma, beta, n, c, spatial, 1e-5);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-10 : 2e-4;
            var r = Run(dtype, x, dy, gamma, beta, n, c, spatial);
            Reference.AssertClose(r.Y, expected.Y, tol, tol, $"forward {dtype}");
            Reference.AssertClose(r.Dx, expected.Dx, tol, tol, $"dx {dtype}");
            Reference.AssertClose(r.Dgamma, expected.Dgamma, tol * 10, tol, $"dgamma {dtype}");
            Reference.AssertClose(r.Dbeta, expected.Dbeta, tol * 10, tol, $"dbeta {dtype}");
        }
    }

    // The fused BatchNorm → LeakyReLU (slope 0.2): y = LeakyReLU(BN(x)) and the backward through the LeakyReLU gradient.
    [TestCase(3, 7, 1601)]
    [TestCase(7, 1000, 4)]
    [TestCase(9, 301, 13)]
    public void FusedLeakyReluMatchesDefinition(int n, int c, int spatial)
    {
        const double slope = 0.2;
        var rng = new Random(n * c);
        double[] x = DirectConvTests.Random(rng, n * c * spatial), dy = DirectConvTests.Random(rng, n * c * spatial);
        double[] gamma = DirectConvTests.Random(rng, c), beta = DirectConvTests.Random(rng, c);
        var z = Naive(x, dy, gamma, beta, n, c, spatial, 1e-5).Y;
        double[] dz = z.Select((v, k) => v > 0 ? dy[k] : slope * dy[k]).ToArray();
        var expected = Naive(x, dz, gamma, beta, n, c, spatial, 1e-5);
        double[] y = z.Select(v => v > 0 ? v : slope * v).ToArray();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-10 : 2e-4;
            var r = Run(dtype, x, dy, gamma, beta, n, c, spatial, slope);
            Reference.AssertClose(r.Y, y, tol, tol, $"forward {dtype}");
            Reference.AssertClose(r.Dx, expected.Dx, tol, tol, $"dx {dtype}");
            Reference.AssertClose(r.Dgamma, expected.Dgamma, tol * 10, tol, $"dgamma {dtype}");
            Reference.AssertClose(r.Dbeta, expected.Dbeta, tol * 10, tol, $"dbeta {dtype}");
        }
    }

    [TestCase(3, 7, 1601)]
    [TestCase(9, 301, 13)]
    public void ResultsDoNotDependOnTheThreadCount(int n, int c, int spatial)
    {
        var rng = new Random(5);
        double[] x = DirectConvTests.Random(rng, n * c * spatial), dy = DirectConvTests.Random(rng, n * c * spatial);
        double[] gamma = DirectConvTests.Random(rng, c), beta = DirectConvTests.Random(rng, c);
        var (one, three) = ThreadCount.OneAndThree(() => Run(DType.Float32, x, dy, gamma, beta, n, c, spatial));
        Assert.That(three.Y, Is.EqualTo(one.Y));
        Assert.That(three.Dx, Is.EqualTo(one.Dx));
        Assert.That(three.Dgamma, Is.EqualTo(one.Dgamma));
        Assert.That(three.Dbeta, Is.EqualTo(one.Dbeta));
    }

    private static (double[] Y, double[] Dx, double[] Dgamma, double[] Dbeta) Run(DType dtype, double[] x, double[] dy, double[] gamma, double[] beta, int n, int c, int spatial,
        double? slope = null)
    {
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
        double[] Down(BackendBuffer buf) { var v = new double[buf.Length]; be.Download(buf, v); return v; }
        var (bx, bdy, bg, bb) = (Up(x), Up(dy), Up(gamma), Up(beta));
        var (y, mean, invStd) = (be.Allocate(dtype, x.Length), be.Allocate(dtype, c), be.Allocate(dtype, c));
        var (dx, dg, db) = (be.Allocate(dtype, x.Length), be.Allocate(dtype, c), be.Allocate(dtype, c));
        if (slope is double s)
        {
            be.BatchNormLeakyReluForwardTraining(y, mean, invStd, bx, bg, bb, null, null, n, c, spatial, 1e-5, 0.1, s);
            be.BatchNormLeakyReluBackward(dx, dg, db, bdy, y, bx, mean, invStd, bg, n, c, spatial, s);
        }
        else
        {
            be.BatchNormForwardTraining(y, mean, invStd, bx, bg, bb, null, null, n, c, spatial, 1e-5, 0.1);
            be.BatchNormBackward(dx, dg, db, bdy, bx, mean, invStd, bg, n, c, spatial);
        }
        return (Down(y), Down(dx), Down(dg), Down(db));
    }

    // y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε) (biased σ²); dβ = Σdy, dγ = Σdy·x̂, dx = γ/(M·σ̂)·(M·dy − dβ − x̂·dγ).
    private static (double[] Y, double[] Dx, double[] Dgamma, double[] Dbeta) Naive(double[] x, double[] dy, double[] gamma, double[] beta, int n, int c, int spatial, double eps)
    {
        var y = new double[x.Length];
        var dx = new double[x.Length];
        var dg = new double[c];
        var db = new double[c];
        int m = n * spatial;
        for (int ch = 0; ch < c; ch++)
        {
            IEnumerable<int> Idx() { for (int i = 0; i < n; i++) for (int s = 0; s < spatial; s++) yield return (i * c + ch) * spatial + s; }
            double mean = Idx().Sum(k => x[k]) / m;
            double var = Idx().Sum(k => (x[k] - mean) * (x[k] - mean)) / m;
            double sd = Math.Sqrt(var + eps);
            foreach (int k in Idx())
            {
                y[k] = gamma[ch] * (x[k] - mean) / sd + beta[ch];
                db[ch] += dy[k];
                dg[ch] += dy[k] * (x[k] - mean) / sd;
            }
            foreach (int k in Idx())
                dx[k] = gamma[ch] / (m * sd) * (m * dy[k] - db[ch] - (x[k] - mean) / sd * dg[ch]);
        }
        return (y, dx, dg, db);
    }
}
