using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>WeightedSumFunction (IBackend.WeightedSum*) against finite differences and its definition, in float64.</summary>
[TestFixture, Category("GradCheck")]
public class WeightedSumGradTests
{
    [TestCase(1), TestCase(2), TestCase(8)]
    public void EveryTerm(int terms)
    {
        var weights = Enumerable.Range(0, terms).Select(k => 0.75 - 0.5 * k).ToArray();
        AssertGradients(t => WeightedSumFunction.Forward(t, weights), [.. Enumerable.Range(0, terms).Select(k => Randn(k + 1, 3, 5))]);
    }

    [Test]
    public void OneElementTermsAsTheElbo()
    {
        // reconstruction + β·KL of one-element losses; the KL alone wants a gradient (the other term a constant).
        var reconstruction = Randn(20, []);
        AssertGradients(t => WeightedSumFunction.Forward([reconstruction, t[0]], [1.0, 0.3]), Randn(21, []));
        AssertGradients(t => WeightedSumFunction.Forward([t[0], t[1]], [1.0, 0.3]), Randn(22, []), Randn(23, []));
    }

    [Test]
    public void EqualsItsDefinition()
    {
        Tensor a = Randn(30, 4, 3), b = Randn(31, 4, 3), c = Randn(32, 4, 3);
        Assert.That(WeightedSumFunction.Forward([a, b, c], [1.5, -0.25, 2.0]).ToDoubleArray(),
            Is.EqualTo((a * 1.5 + b * -0.25 + c * 2.0).ToDoubleArray()).Within(1e-12));
    }

    [Test]
    public void BadTermsAreNamed()
    {
        Assert.That(() => WeightedSumFunction.Forward([Randn(1, 3), Randn(2, 4)], [1.0, 1.0]), Throws.ArgumentException.With.Message.Contains("[3]"));
        Assert.That(() => WeightedSumFunction.Forward([Randn(1, 3)], [1.0, 1.0]), Throws.ArgumentException.With.Message.Contains("weights"));
        Assert.That(() => WeightedSumFunction.Forward([], []), Throws.ArgumentException.With.Message.Contains("1 to 8"));
    }
}
