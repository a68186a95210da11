using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;

namespace BlurVae.Tests.Reference;

/// <summary>
/// The Fréchet distance, its covariance and the matrix square root against pytorch-fid's formula with
/// scipy.linalg.sqrtm (reference/scipy/frechet.py, Debian's python3-scipy) on random correlated features.
/// </summary>
[TestFixture, Category("Reference")]
public class FrechetDistanceReferenceTests
{
    [TestCase(7, 40, 1, 1e-9)]
    [TestCase(33, 200, 2, 1e-9)]
    // Fewer samples than dimensions: singular covariances, the case FID on few images meets. sqrtm's Schur method loses
    // digits on a singular product (a zero eigenvalue's square root is ill-conditioned), so the agreement is ~1e-8.
    [TestCase(64, 50, 3, 1e-7)]
    public void MatchesScipy(int dimension, int count, int seed, double tolerance)
    {
        var python = PyTorchReference.RequirePython("scipy", "python3-scipy");
        var rng = new Random(seed);
        double[] a = CorrelatedFeatures(rng, count, dimension, shift: 0.0);
        double[] b = CorrelatedFeatures(rng, count + 3, dimension, shift: 0.3);
        var dir = Directory.CreateTempSubdirectory("blurvae-frechet-");
        try
        {
            string input = Path.Combine(dir.FullName, "in.json"), output = Path.Combine(dir.FullName, "out.json");
            File.WriteAllText(input, new JsonObject { ["a"] = Rows(a, dimension), ["b"] = Rows(b, dimension) }.ToJsonString());
            string script = Path.Combine(Repository.Root(), "reference", "scipy", "frechet.py");
            var (code, stdout, stderr) = PyTorchReference.Execute(python, [script, input, output], TimeSpan.FromMinutes(2));
            Assert.That(code, Is.Zero, $"frechet.py failed:\n{stdout}\n{stderr}");
            var reference = JsonNode.Parse(File.ReadAllText(output))!;

            var sa = FeatureStatistics.Of(a, dimension);
            var sb = FeatureStatistics.Of(b, dimension);
            double fd = FrechetDistance.Compute(sa, sb);
            double trace = FrechetDistance.TraceSqrtProduct(Matrix<double>.Build.DenseOfArray(sa.Covariance), Matrix<double>.Build.DenseOfArray(sb.Covariance));
            var root = FrechetDistance.SymmetricSqrt(Matrix<double>.Build.DenseOfArray(sa.Covariance));
            double refFd = reference["fd"]!.GetValue<double>();
            Assert.Multiple(() =>
            {
                Assert.That(fd, Is.EqualTo(refFd).Within(tolerance * Math.Abs(refFd)), "Fréchet distance");
                Assert.That(trace, Is.EqualTo(reference["trace_sqrt_product"]!.GetValue<double>()).Within(tolerance * Math.Abs(trace)), "tr((Σ₁Σ₂)^½)");
                AssertMatrixClose(sa.Covariance, reference["cov_a"]!, 1e-12, "covariance");
                AssertMatrixClose(root.ToArray(), reference["sqrt_a"]!, 1e-7, "Σ^½");
                for (int j = 0; j < dimension; j++)
                    Assert.That(sa.Mean[j], Is.EqualTo(reference["mean_a"]![j]!.GetValue<double>()).Within(1e-13), $"mean[{j}]");
            });
            TestContext.Out.WriteLine($"d={dimension} n={count}: FD {fd:R} (scipy {refFd:R}, scipy {reference["scipy"]})");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Features x = A·g + shift with a random mixing matrix A, so the covariance is full and far from diagonal.</summary>
    private static double[] CorrelatedFeatures(Random rng, int count, int dimension, double shift)
    {
        var mix = new double[dimension * dimension];
        for (int i = 0; i < mix.Length; i++) mix[i] = rng.NextDouble() * 2 - 1;
        var g = new double[dimension];
        var x = new double[count * dimension];
        for (int n = 0; n < count; n++)
        {
            for (int j = 0; j < dimension; j++) g[j] = Gaussian(rng);
            for (int i = 0; i < dimension; i++)
            {
                double s = shift * (i % 3);
                for (int j = 0; j < dimension; j++) s += mix[i * dimension + j] * g[j];
                x[n * dimension + i] = s;
            }
        }
        return x;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static JsonArray Rows(double[] x, int dimension)
    {
        var rows = new JsonArray();
        for (int n = 0; n < x.Length / dimension; n++)
            rows.Add(new JsonArray(x.Skip(n * dimension).Take(dimension).Select(v => (JsonNode)JsonValue.Create(v)).ToArray()));
        return rows;
    }

    private static void AssertMatrixClose(double[,] ours, JsonNode reference, double relative, string what)
    {
        double scale = 0;
        foreach (var v in ours) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < ours.GetLength(0); i++)
            for (int j = 0; j < ours.GetLength(1); j++)
                Assert.That(ours[i, j], Is.EqualTo(reference[i]![j]!.GetValue<double>()).Within(relative * scale), $"{what}[{i},{j}]");
    }
}
