
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class MeanStdTests
{
    [Test]
    public void PopulationStdOfKnownValues()
    {
        var s = MeanStd.Of([1.0, 2.0, 3.0, 4.0]);
        Assert.Multiple(() =>
        {
            Assert.That(s.Mean, Is.EqualTo(2.5));
            Assert.That(s.Std, Is.EqualTo(Math.Sqrt(1.25)).Within(1e-15));
            Assert.That(s.Count, Is.EqualTo(4));
            Assert.That(MeanStd.Of([7.0]).Std, Is.EqualTo(0.0));
            Assert.That(s.ToString(2), Is.EqualTo("2.50 ± 1.12"));
            Assert.That(new MeanStd(double.PositiveInfinity, double.NaN, 1).ToString(), Is.EqualTo("inf ± nan"));
        });
    }

    [Test]
    public void EmptyThrows() => Assert.That(() => MeanStd.Of([]), Throws.ArgumentException);
}
