using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>reshape, flatten, chunk, narrow, concat. A weight after the op makes the gradient position-dependent.</summary>
[TestFixture, Category("GradCheck")]
public class ShapeGradTests
{
    [Test] public void Reshape() => AssertGradients(x => x[0].Reshape(5, -1).Tanh(), Randn(1, 3, 5, 7));
    [Test] public void Flatten() => AssertGradients(x => x[0].Flatten(1).Sigmoid(), Randn(2, 3, 5, 2, 3));

    [Test]
    public void ChunkUneven()
    {
        // 7 along axis 1 in 3 chunks: 3, 3, 1; each piece used differently.
        AssertGradients(x =>
        {
            var parts = x[0].Chunk(3, axis: 1);
            Assert.That(parts.Select(p => p.Shape[1]), Is.EqualTo(new[] { 3, 3, 1 }));
            return parts[0].Tanh().Sum([1]) + parts[1].Square().Sum([1]) * 0.5 - parts[2].Sum([1]);
        }, Randn(3, 5, 7, 2));
    }

    [Test]
    public void ChunkForMuAndLogVar()
    {
        // The VAE encoder's split of one linear output into μ and log σ².
        AssertGradients(x =>
        {
            var parts = x[0].Chunk(2, axis: -1);
            return parts[0].Square() + parts[1].Exp();
        }, Randn(4, 3, 10));
    }

    // SplitHalves: one node with two outputs whose backward runs once with both gradients (the encoder's μ and log σ²,
    // each read by two consumers as the reparameterisation and the KL term do), with one half unused (zeros there),
    // and along a middle axis.
    [Test]
    public void SplitHalvesForMuAndLogVar()
    {
        var eps = Randn(7, 3, 5);
        AssertGradients(x =>
        {
            var (mu, logVar) = x[0].SplitHalves(axis: 1);
            return ReparameterizeFunction.Forward(mu, logVar, eps) * 0.5 + Training.Losses.KlDivergence.Compute(mu, logVar).Reshape(1, 1);
        }, Randn(6, 3, 10));
    }

    [Test]
    public void SplitHalvesWithOneHalfUnused() => AssertGradients(x => x[0].SplitHalves(axis: 2).Second.Exp(), Randn(8, 2, 3, 6, 2));

    [Test]
    public void SplitHalvesMatchesChunk()
    {
        var x = Randn(9, 4, 6, 3);
        var (first, second) = x.SplitHalves(axis: 1);
        var parts = x.Chunk(2, axis: 1);
        Assert.That(first.ToDoubleArray(), Is.EqualTo(parts[0].ToDoubleArray()));
        Assert.That(second.ToDoubleArray(), Is.EqualTo(parts[1].ToDoubleArray()));
        Assert.Throws<ArgumentException>(() => Randn(10, 3, 5).SplitHalves(axis: 1));
    }

    [Test] public void Narrow() => AssertGradients(x => x[0].Narrow(2, 1, 3).Exp(), Randn(5, 3, 2, 5));

    [Test]
    public void Concat()
    {
        AssertGradients(x => Tensor.Concat([x[0], x[1].Tanh(), x[2]], axis: 1).Square(),
            Randn(6, 3, 2, 5), Randn(7, 3, 4, 5), Randn(8, 3, 1, 5));
    }

    [Test]
    public void ConcatTheSameTensorTwice() => AssertGradients(x => Tensor.Concat([x[0], x[0]], axis: 0).Square(), Randn(9, 3, 5));

    [Test]
    public void BadReshapeNamesTheShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Randn(1, 3, 5).Reshape(4, 4));
        Assert.That(ex!.Message, Does.Contain("[3, 5]").And.Contain("[4, 4]"));
    }
}
