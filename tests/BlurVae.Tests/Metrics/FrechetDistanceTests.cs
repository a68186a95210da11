
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class FrechetDistanceTests
{
    [Test]
    public void DiagonalCovariancesByHand()
    {
        // Commuting (diagonal) covariances: FD = ‖Δμ‖² + Σ (√a_i − √b_i)².
        var a = new FeatureStatistics([1, 2, 0], new double[,] { { 4, 0, 0 }, { 0, 9, 0 }, { 0, 0, 1 } }, 10);
        var b = new FeatureStatistics([0, 2, 2], new double[,] { { 1, 0, 0 }, { 0, 9, 0 }, { 0, 0, 16 } }, 10);
        double expected = 1 + 4 + (2 - 1) * (2 - 1) + 0 + (1 - 4) * (1 - 4);
        Assert.That(FrechetDistance.Compute(a, b), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void SameFeaturesGiveZeroAndStatisticsMatchByHand()
    {
        double[] x = [1, 2, 3, 6, 5, 10]; // 3 rows of 2
        var s = FeatureStatistics.Of(x, 2);
        Assert.Multiple(() =>
        {
            Assert.That(s.Mean, Is.EqualTo(new[] { 3.0, 6.0 }));
            // Unbiased: Σ (x−μ)(y−μ)/(n−1) = ((−2)(−4) + 0·0 + 2·4)/2 = 8; var x = (4+0+4)/2 = 4; var y = (16+0+16)/2 = 16.
            Assert.That(s.Covariance, Is.EqualTo(new double[,] { { 4, 8 }, { 8, 16 } }));
            Assert.That(FrechetDistance.Compute(s, s), Is.EqualTo(0).Within(1e-6)); // a singular covariance: √ of ~0 eigenvalues
        });
    }

    [Test]
    public void BadShapesAreErrors()
    {
        Assert.That(() => FeatureStatistics.Of([1, 2, 3], 2), Throws.ArgumentException.With.Message.Contains("whole rows"));
        Assert.That(() => FeatureStatistics.Of([1, 2], 2), Throws.ArgumentException.With.Message.Contains("at least 2"));
        var a = new FeatureStatistics([0], new double[,] { { 1 } }, 2);
        var b = new FeatureStatistics([0, 0], new double[,] { { 1, 0 }, { 0, 1 } }, 2);
        Assert.That(() => FrechetDistance.Compute(a, b), Throws.ArgumentException.With.Message.Contains("1 and 2 dimensions"));
    }
}
