
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

    [Test]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        int n = 3, c = 7, spatial = 1601;
        var rng = new Random(5);
        double[] x = DirectConvTests.Random(rng, n * c * spatial), dy = DirectConvTests.Random(rng, n * c * spatial);
        double[] gamma = DirectConvTests.Random(rng, c), beta = DirectConvTests.Random(rng, c);
        var (one, three) = ThreadCount.OneAndThree(() => Run(DType.Float32, x, dy, gamma, beta, n, c, spatial));
        Assert.That(three.Y, Is.EqualTo(one.Y));
        Assert.That(three.Dx, Is.EqualTo(one.Dx));
        Assert.That(three.Dgamma, Is.EqualTo(one.Dgamma));
        Assert.That(three.Dbeta, Is.EqualTo(one.Dbeta));
    }

    private static (double[] Y, double[] Dx, double[] Dgamma, double[] Dbeta) Run(DType dtype, double[] x, double[] dy, double[] gamma, double[] beta, int n, int c, int spatial)
    {
        var be = CpuBackend.Instance;
        BackendBuffer Up(double[] v) { var buf = be.Allocate(dtype, v.Length); be.Upload(buf, v); return buf; }
        double[] Down(BackendBuffer buf) { var v = new double[buf.Length]; be.Download(buf, v); return v; }
        var (bx, bdy, bg, bb) = (Up(x), Up(dy), Up(gamma), Up(beta));
        var (y, mean, invStd) = (be.Allocate(dtype, x.Length), be.Allocate(dtype, c), be.Allocate(dtype, c));
        be.BatchNormForwardTraining(y, mean, invStd, bx, bg, bb, null, null, n, c, spatial, 1e-5, 0.1);
        var (dx, dg, db) = (be.Allocate(dtype, x.Length), be.Allocate(dtype, c), be.Allocate(dtype, c));
        be.BatchNormBackward(dx, dg, db, bdy, bx, mean, invStd, bg, n, c, spatial);
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
