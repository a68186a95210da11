using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>ReparameterizeFunction and LatentFunction (IBackend.Reparameterize*, Latent*) against finite differences and their definitions.</summary>
[TestFixture, Category("GradCheck")]
public class VaeLatentGradTests
{
    [TestCase(1, 1), TestCase(3, 5), TestCase(2, 33)]
    public void Reparameterize(int n, int latent)
    {
        var eps = Randn(1, n, latent);
        AssertGradients(x => ReparameterizeFunction.Forward(x[0], x[1], eps), Randn(2, n, latent), Randn(3, n, latent));
    }

    // Both outputs weighted together, and each alone (the other's gradient absent: zeros for dz, no KL term).
    [TestCase(1, 1), TestCase(3, 5), TestCase(2, 33)]
    public void Latent(int n, int latent)
    {
        var eps = Randn(10, n, latent);
        var weight = Randn(11, n, latent);
        AssertGradients(x => { var (z, kl) = LatentFunction.Forward(x[0], eps, 0.37); return (z * weight).Sum() + kl * 1.7; }, Randn(12, n, 2 * latent));
        AssertGradients(x => LatentFunction.Forward(x[0], eps, 0.37).Z, Randn(13, n, 2 * latent));
        AssertGradients(x => LatentFunction.Forward(x[0], eps, 0.37).Kl, Randn(14, n, 2 * latent));
    }

    [Test]
    public void LatentEqualsSplitReparameterizeAndTheKlFormula()
    {
        Tensor stats = Randn(15, 3, 14), eps = Randn(16, 3, 7);
        var (mu, logVar) = stats.SplitHalves(axis: 1);
        var (z, kl) = LatentFunction.Forward(stats, eps, 0.37);
        Assert.That(z.ToDoubleArray(), Is.EqualTo(ReparameterizeFunction.Forward(mu, logVar, eps).ToDoubleArray()).Within(1e-12));
        Assert.That(kl.Shape, Is.Empty);
        Assert.That(kl.ToDoubleArray(), Is.EqualTo(((1.0 + logVar - mu.Square() - logVar.Exp()).Sum() * (-0.5 * 0.37)).ToDoubleArray()).Within(1e-12));
    }

    [Test]
    public void LatentRejectsBadShapes()
    {
        Assert.Throws<ArgumentException>(() => LatentFunction.Forward(Randn(1, 2, 5), Randn(2, 2, 2), 1.0)); // odd statistics
        Assert.Throws<ArgumentException>(() => LatentFunction.Forward(Randn(1, 2, 6), Randn(2, 2, 2), 1.0)); // eps not [2, 3]
        var eps = Randn(3, 2, 3);
        eps.RequiresGrad = true;
        Assert.Throws<ArgumentException>(() => LatentFunction.Forward(Randn(1, 2, 6), eps, 1.0));
    }

    // The fused ops equal the chains of elementwise ops they replace, in float64.
    [Test]
    public void FusedOpsEqualTheirDefinitions()
    {
        Tensor mu = Randn(6, 3, 7), logVar = Randn(7, 3, 7), eps = Randn(8, 3, 7);
        Assert.That(ReparameterizeFunction.Forward(mu, logVar, eps).ToDoubleArray(),
            Is.EqualTo((mu + (logVar * 0.5).Exp() * eps).ToDoubleArray()).Within(1e-12));
    }

    [Test]
    public void NoiseThatWantsAGradientIsRejected()
    {
        var eps = Randn(9, 2, 3);
        eps.RequiresGrad = true;
        Assert.Throws<ArgumentException>(() => ReparameterizeFunction.Forward(Randn(1, 2, 3), Randn(2, 2, 3), eps));
    }
}
