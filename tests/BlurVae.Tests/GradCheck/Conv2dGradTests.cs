using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class Conv2dGradTests
{
    // Batch 3, 5 input channels, odd spatial sizes; kernel 3 with stride 1/2 and padding 0/1 (the encoder's k3 s2 p1 included).
    [TestCase(1, 0), TestCase(1, 1), TestCase(2, 1), TestCase(2, 0), TestCase(3, 2)]
    public void Conv2d(int stride, int padding) =>
        AssertGradients(x => Functional.Conv2d(x[0], x[1], x[2], stride, padding), Randn(1, 3, 5, 7, 6), Randn(2, 4, 5, 3, 3), Randn(3, 4));

    [Test]
    public void Conv2dWithoutBiasRectangularKernel() =>
        AssertGradients(x => Functional.Conv2d(x[0], x[1], null, 1, 1), Randn(4, 2, 3, 5, 6), Randn(5, 2, 3, 2, 3));

    // Kernel, stride and padding per axis: Inception's 1×7 / 7×1 / 1×3 / 3×1 with one-axis padding, and strides (1, 2), (2, 1).
    [TestCase(1, 7, 1, 1, 0, 3), TestCase(7, 1, 1, 1, 3, 0), TestCase(1, 3, 1, 1, 0, 1), TestCase(3, 1, 2, 1, 1, 0), TestCase(2, 3, 1, 2, 0, 2)]
    public void Conv2dPerAxis(int kh, int kw, int sh, int sw, int ph, int pw) =>
        AssertGradients(x => Functional.Conv2d(x[0], x[1], x[2], (sh, sw), (ph, pw)), Randn(1, 2, 3, 8, 9), Randn(2, 4, 3, kh, kw), Randn(3, 4));

    // The decoder's k4 s2 p1, plus output padding and odd sizes; stride > 1 runs by phases (ConvPhases), k < s
    // leaves phases no tap reaches.
    [TestCase(4, 2, 1, 0), TestCase(3, 2, 1, 1), TestCase(3, 1, 0, 0), TestCase(3, 3, 1, 2), TestCase(4, 2, 0, 1), TestCase(2, 3, 0, 0)]
    public void ConvTranspose2d(int kernel, int stride, int padding, int outputPadding) =>
        AssertGradients(x => Functional.ConvTranspose2d(x[0], x[1], x[2], stride, padding, outputPadding),
            Randn(6, 3, 5, 3, 4), Randn(7, 5, 2, kernel, kernel), Randn(8, 2));

    [Test]
    public void ConvTransposeOutputShape()
    {
        var y = Functional.ConvTranspose2d(Randn(1, 2, 3, 4, 5), Randn(2, 3, 6, 4, 4), null, 2, 1, 0);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 6, 8, 10 }));
        var z = Functional.ConvTranspose2d(Randn(1, 2, 3, 4, 5), Randn(2, 3, 6, 3, 3), null, 2, 1, 1);
        Assert.That(z.Shape, Is.EqualTo(new[] { 2, 6, 8, 10 }));
    }

    [Test]
    public void WrongChannelCountNamesTheWeight()
    {
        var ex = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Randn(1, 2, 3, 5, 5), Randn(2, 4, 2, 3, 3)));
        Assert.That(ex!.Message, Does.Contain("weight"));
    }
}
