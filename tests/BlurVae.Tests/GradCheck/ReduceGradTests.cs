using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class ReduceGradTests
{
    [Test] public void SumAll() => AssertGradients(x => x[0].Sum(), Randn(1, 3, 5, 7));
    [Test] public void MeanAll() => AssertGradients(x => x[0].Mean(), Randn(2, 3, 5, 7));
    [Test] public void SumOneAxis() => AssertGradients(x => x[0].Sum([1]), Randn(3, 3, 5, 7));
    [Test] public void SumLastAxisKeepDims() => AssertGradients(x => x[0].Sum([-1], keepDims: true), Randn(4, 3, 5, 7));
    [Test] public void SumSeveralAxes() => AssertGradients(x => x[0].Sum([0, 2, 3]), Randn(5, 3, 5, 2, 3));
    [Test] public void MeanOverSpatialAxes() => AssertGradients(x => x[0].Mean([2, 3], keepDims: true), Randn(6, 3, 5, 2, 3));
    [Test] public void MeanOverBatch() => AssertGradients(x => x[0].Mean([0]), Randn(7, 3, 5, 7));

    [Test]
    public void ReducedShapes()
    {
        var x = Randn(8, 3, 5, 7);
        Assert.Multiple(() =>
        {
            Assert.That(x.Sum().Shape, Is.Empty);
            Assert.That(x.Sum([1]).Shape, Is.EqualTo(new[] { 3, 7 }));
            Assert.That(x.Sum([1], keepDims: true).Shape, Is.EqualTo(new[] { 3, 1, 7 }));
            Assert.That(x.Mean([0, 2]).Shape, Is.EqualTo(new[] { 5 }));
        });
    }
}
