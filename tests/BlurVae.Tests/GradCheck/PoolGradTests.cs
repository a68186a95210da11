using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// The MaxPool2d module (over the Pool2d op): gradients for VGG16's 2/2 and AlexNet's 3/2 on odd
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

/// <summary>
/// The Pool2d op (max and average, fixed and adaptive windows) and the bilinear resize, against finite differences in
/// float64 on awkward sizes: Inception's 3×3 s2 and 3×3 s1 p1 pools, both count_include_pad settings, per-axis
/// windows, adaptive windows that overlap (7 → 3) or repeat pixels (4 → 6), resizes up, down and from one pixel.
/// </summary>
[TestFixture, Category("GradCheck")]
public class Pool2dGradTests
{
    [TestCase(3, 2, 0), TestCase(3, 1, 1), TestCase(2, 2, 1), TestCase(4, 3, 2)]
    public void MaxPool2d(int k, int s, int p) => AssertGradients(x => x[0].MaxPool2d(k, s, p).Tanh(), Randn(11, 2, 3, 7, 8));

    [TestCase(3, 1, 1, true), TestCase(3, 1, 1, false), TestCase(3, 2, 1, true), TestCase(3, 2, 1, false), TestCase(2, 2, 0, true)]
    public void AvgPool2d(int k, int s, int p, bool countIncludePad) =>
        AssertGradients(x => x[0].AvgPool2d(k, s, p, countIncludePad).Tanh(), Randn(12, 2, 3, 7, 6));

    [TestCase(PoolMode.Max), TestCase(PoolMode.Average)]
    public void PerAxisWindows(PoolMode mode) =>
        AssertGradients(x => Pool2dFunction.Pool(x[0], mode, (2, 3), (2, 1), (1, 1), countIncludePad: false).Tanh(), Randn(13, 2, 3, 5, 7));

    [TestCase(3, 4), TestCase(1, 1), TestCase(6, 5), TestCase(7, 2)]
    public void AdaptiveAvgPool2d(int outH, int outW) => AssertGradients(x => x[0].AdaptiveAvgPool2d(outH, outW).Tanh(), Randn(14, 2, 3, 7, 4));

    [Test]
    public void AvgPoolDivisorsByHand()
    {
        // 3×3 window, stride 1, padding 1 on a 2×2 ones image: every window holds the 4 pixels; with the padding
        // counted the mean is 4/9, without it 1. PyTorch gives the same.
        var x = Tensor.Ones([1, 1, 2, 2], BlurVae.Kernels.DType.Float64);
        Assert.That(x.AvgPool2d(3, 1, 1, countIncludePad: true).ToDoubleArray(), Is.All.EqualTo(4.0 / 9).Within(1e-15));
        Assert.That(x.AvgPool2d(3, 1, 1, countIncludePad: false).ToDoubleArray(), Is.All.EqualTo(1.0).Within(1e-15));
    }

    [Test]
    public void AdaptiveWindowsFollowPyTorchsRule()
    {
        // 5 → 3: windows [0, 2), [1, 4), [3, 5) (start ⌊o·5/3⌋, end ⌈(o+1)·5/3⌉).
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5 }, [1, 1, 1, 5], BlurVae.Kernels.DType.Float64);
        Assert.That(x.AdaptiveAvgPool2d(1, 3).ToDoubleArray(), Is.EqualTo(new[] { 1.5, 3.0, 4.5 }).Within(1e-15));
    }

    [Test]
    public void PaddingLargerThanHalfTheKernelIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Randn(17, 1, 1, 5, 5).MaxPool2d(3, 1, 2));
}
