using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class ReconstructionLossTests
{
    private static readonly Tensor X = Uniform(1, -1, 1, 2, 3, 6, 5);
    private static readonly Tensor XHat = Uniform(2, -1, 1, 2, 3, 6, 5);

    [Test]
    public void BaselinesDelegateToTheirLosses()
    {
        Assert.That(ReconstructionLoss.Create(ReconstructionLossKind.L2).Compute(X, XHat).Item(), Is.EqualTo(L2Loss.Compute(X, XHat).Item()));
        Assert.That(ReconstructionLoss.Create(ReconstructionLossKind.L1).Compute(X, XHat).Item(), Is.EqualTo(L1Loss.Compute(X, XHat).Item()));
        Assert.That(ReconstructionLoss.Create(ReconstructionLossKind.Bce).Compute(X, XHat).Item(), Is.EqualTo(BceLoss.Compute(X, XHat).Item()));
        Assert.That(ReconstructionLoss.Create(ReconstructionLossKind.L2).Name, Is.EqualTo("l2"));
    }

    [Test]
    public void FocalFrequencyKeepsTheReferenceRatioToMeanSquaredError()
    {
        // Reference objective mean((x̂ − x)²) + 100·FFL, scaled by C·H·W/2 so its first term is our L2Loss.
        var loss = ReconstructionLoss.Create(ReconstructionLossKind.FocalFrequency).Compute(X, XHat).Item();
        var (a, b) = (X.ToDoubleArray(), XHat.ToDoubleArray());
        double mse = a.Zip(b, (p, q) => (p - q) * (p - q)).Average();
        double expected = (mse + 100 * FocalFrequencyLoss.Compute(X, XHat).Item()) * (3 * 6 * 5 / 2.0);
        Assert.That(loss, Is.EqualTo(expected).Within(1e-10 * expected));
        var heavier = ReconstructionLoss.Create(ReconstructionLossKind.FocalFrequency, focalFrequencyWeight: 10, focalFrequencyAlpha: 2).Compute(X, XHat).Item();
        Assert.That(heavier, Is.EqualTo(L2Loss.Compute(X, XHat).Item() + 10 * 45 * FocalFrequencyLoss.Compute(X, XHat, 2).Item()).Within(1e-10 * heavier));
    }

    [Test]
    public void WatsonNeedsItsInstanceAndWienerItsKernel()
    {
        Assert.That(() => ReconstructionLoss.Create(ReconstructionLossKind.WatsonDft), Throws.ArgumentException.With.Message.Contains("WatsonDftLoss"));
        var stand = ReconstructionLoss.Create(ReconstructionLossKind.L1);
        Assert.That(ReconstructionLoss.Create(ReconstructionLossKind.WatsonDft, watsonDft: stand), Is.SameAs(stand));
        Assert.That(() => ReconstructionLoss.Create(ReconstructionLossKind.Wiener), Throws.ArgumentException.With.Message.Contains("WienerBlurLoss"));
    }

    [TestCase("l2", ReconstructionLossKind.L2), TestCase("MSE", ReconstructionLossKind.L2), TestCase("l1", ReconstructionLossKind.L1),
     TestCase("bce", ReconstructionLossKind.Bce), TestCase("ffl", ReconstructionLossKind.FocalFrequency),
     TestCase("watson-dft", ReconstructionLossKind.WatsonDft), TestCase(" Wiener ", ReconstructionLossKind.Wiener)]
    public void ParsesCommandLineNames(string name, ReconstructionLossKind kind) => Assert.That(ReconstructionLoss.Parse(name), Is.EqualTo(kind));

    [Test]
    public void RejectsUnknownNames() =>
        Assert.That(() => ReconstructionLoss.Parse("vgg"), Throws.ArgumentException.With.Message.Contains("'vgg'").And.Message.Contains("wiener"));
}
