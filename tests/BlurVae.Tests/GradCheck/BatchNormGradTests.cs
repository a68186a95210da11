using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class BatchNormGradTests
{
    private static Tensor Running(int seed, int c, bool variance) => variance ? Positive(seed, c) : Randn(seed, c);

    [Test]
    public void BatchNorm2dTrainingAffine()
    {
        var (rm, rv) = (Running(10, 5, false), Running(11, 5, true));
        AssertGradients(x => Functional.BatchNorm(x[0], rm, rv, x[1], x[2], training: true),
            Randn(1, 3, 5, 3, 4), Positive(2, 5), Randn(3, 5));
    }

    [Test]
    public void BatchNorm2dTrainingNoAffine() =>
        AssertGradients(x => Functional.BatchNorm(x[0], null, null, null, null, training: true), Randn(4, 3, 5, 3, 3));

    [Test]
    public void BatchNorm2dEval()
    {
        var (rm, rv) = (Running(12, 5, false), Running(13, 5, true));
        AssertGradients(x => Functional.BatchNorm(x[0], rm, rv, x[1], x[2], training: false), Randn(5, 3, 5, 3, 4), Positive(6, 5), Randn(7, 5));
    }

    [Test]
    public void BatchNorm1dTraining()
    {
        var (rm, rv) = (Running(14, 7, false), Running(15, 7, true));
        AssertGradients(x => Functional.BatchNorm(x[0], rm, rv, x[1], x[2], training: true), Randn(8, 5, 7), Positive(9, 7), Randn(10, 7));
    }

    [Test]
    public void BatchNorm1dEval()
    {
        var (rm, rv) = (Running(16, 7, false), Running(17, 7, true));
        AssertGradients(x => Functional.BatchNorm(x[0], rm, rv, x[1], x[2], training: false), Randn(11, 5, 7), Positive(12, 7), Randn(13, 7));
    }

    // The fused BatchNorm → LeakyReLU (training); inputs spread so that no normalised value sits at the kink.
    [Test]
    public void BatchNormLeakyReluTrainingAffine()
    {
        var (rm, rv) = (Running(18, 5, false), Running(19, 5, true));
        AssertGradients(x => Functional.BatchNormLeakyRelu(x[0], rm, rv, x[1], x[2], training: true, negativeSlope: 0.2),
            Randn(20, 3, 5, 3, 4), Positive(21, 5), Randn(22, 5));
    }

    [Test]
    public void BatchNormLeakyReluTrainingNoAffine() =>
        AssertGradients(x => Functional.BatchNormLeakyRelu(x[0], null, null, null, null, training: true, negativeSlope: 0.2), Randn(23, 3, 5, 3, 3));

    // The fused forward and the pair give the same values in float64.
    [Test]
    public void BatchNormLeakyReluEqualsThePair()
    {
        var x = Randn(24, 3, 5, 3, 4);
        var fused = Functional.BatchNormLeakyRelu(x, null, null, null, null, training: true, negativeSlope: 0.2).ToDoubleArray();
        var pair = Functional.BatchNorm(x, null, null, null, null, training: true).LeakyRelu(0.2).ToDoubleArray();
        Assert.That(fused, Is.EqualTo(pair).Within(1e-12));
    }
}
