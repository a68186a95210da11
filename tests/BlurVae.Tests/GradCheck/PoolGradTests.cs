using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>MaxPool2x2 (a composition of narrow, reshape and relu): gradient and values by hand, odd sizes included.</summary>
[TestFixture, Category("GradCheck")]
public class PoolGradTests
{
    // Odd H and W (floor mode drops the last row and column); a weight after the op makes the gradient position-dependent.
    [Test] public void MaxPool2x2Gradient() => AssertGradients(x => MaxPool2x2.Pool(x[0]).Tanh(), Randn(7, 3, 5, 7, 9));

    [Test]
    public void MaxPool2x2ValuesByHand()
    {
        double[] v = [1, 5, 2, 0, 9,
                      3, 4, 8, 1, 9,
                      7, 6, 0, 2, 9];
        var y = MaxPool2x2.Pool(Tensor.FromArray(v, [1, 1, 3, 5], BlurVae.Kernels.DType.Float64));
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 1, 2 }));
        Assert.That(y.ToDoubleArray(), Is.EqualTo(new double[] { 5, 8 }));
    }
}
