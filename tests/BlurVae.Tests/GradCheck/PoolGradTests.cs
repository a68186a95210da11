using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// MaxPool2d (a composition of narrow, reshape, concat and relu): gradients for VGG16's 2/2 and AlexNet's 3/2 on odd
/// sizes (floor mode), values against a naive loop on random inputs of awkward sizes, and a case by hand.
/// </summary>
[TestFixture, Category("GradCheck")]
public class PoolGradTests
{
    // Odd H and W (floor mode drops rows and columns no window reaches); a weight after the op makes the gradient position-dependent.
    [TestCase(2, 2, 5, 7)]
    [TestCase(3, 2, 7, 8)]
    [TestCase(3, 1, 4, 5)]
    public void MaxPoolGradient(int kernel, int stride, int h, int w) =>
        AssertGradients(x => MaxPool2d.Pool(x[0], kernel, stride).Tanh(), Randn(7, 3, 5, h, w));

    [TestCase(2, 2, 9, 8)]
    [TestCase(3, 2, 16, 15)]
    [TestCase(3, 2, 3, 3)]
    [TestCase(5, 3, 13, 11)]
    public void MaxPoolMatchesANaiveLoop(int kernel, int stride, int h, int w)
    {
        var x = Randn(11, 2, 3, h, w);
        var y = MaxPool2d.Pool(x, kernel, stride);
        int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, oh, ow }));
        var v = x.ToDoubleArray();
        var expected = new double[2 * 3 * oh * ow];
        int o = 0;
        for (int plane = 0; plane < 6; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double m = double.NegativeInfinity;
                    for (int dy = 0; dy < kernel; dy++)
                        for (int dx = 0; dx < kernel; dx++)
                            m = Math.Max(m, v[(plane * h + i * stride + dy) * w + j * stride + dx]);
                    expected[o++] = m;
                }
        Assert.That(y.ToDoubleArray(), Is.EqualTo(expected).Within(1e-15));
    }

    [Test]
    public void MaxPoolValuesByHand()
    {
        double[] v = [1, 5, 2, 0, 9,
                      3, 4, 8, 1, 9,
                      7, 6, 0, 2, 9];
        var x = Tensor.FromArray(v, [1, 1, 3, 5], DType.Float64);
        Assert.That(MaxPool2d.Pool(x, 2, 2).ToDoubleArray(), Is.EqualTo(new double[] { 5, 8 }));
        Assert.That(MaxPool2d.Pool(x, 3, 2).ToDoubleArray(), Is.EqualTo(new double[] { 8, 9 }));
    }

    [Test]
    public void MaxPoolRefusesInputsSmallerThanTheWindow() =>
        Assert.That(() => MaxPool2d.Pool(Randn(1, 1, 1, 2, 5), 3, 2), Throws.ArgumentException.With.Message.Contains("3×3"));
}
