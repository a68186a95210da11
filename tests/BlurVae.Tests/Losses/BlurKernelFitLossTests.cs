using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class BlurKernelFitLossTests
{
    [TestCase(3, 1, 7, 9, 3), TestCase(3, 3, 8, 8, 5)]
    public void DeltaKernelGivesTheSquaredError(int n, int c, int h, int w, int ks)
    {
        var x = Uniform(1, -1, 1, n, c, h, w);
        var xHat = Uniform(2, -1, 1, n, c, h, w);
        double expected = 0;
        var (a, b) = (x.ToDoubleArray(), xHat.ToDoubleArray());
        for (int i = 0; i < a.Length; i++) expected += (a[i] - b[i]) * (a[i] - b[i]);
        Assert.That(BlurKernelFitLoss.Compute(x, xHat, Delta(n, ks)).Item(), Is.EqualTo(expected / n).Within(1e-12));
    }

    [TestCase(3, 1, 7, 9, 3), TestCase(3, 3, 8, 8, 5), TestCase(2, 2, 5, 5, 5)]
    public void MatchesDirectCircularConvolution(int n, int c, int h, int w, int ks)
    {
        // An asymmetric kernel, so a correlation or an off-by-one centring would show.
        var x = Uniform(3, -1, 1, n, c, h, w);
        var xHat = Uniform(4, -1, 1, n, c, h, w);
        var kernel = Uniform(5, -1, 1, n, ks, ks);
        var (a, b, k) = (x.ToDoubleArray(), xHat.ToDoubleArray(), kernel.ToDoubleArray());
        var blurred = new double[a.Length];
        double expected = 0;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                int offset = (i * c + ch) * h * w;
                var y = CircularConvolution(a.AsSpan(offset, h * w), k, i, ks, h, w);
                y.CopyTo(blurred, offset);
                for (int p = 0; p < h * w; p++) expected += (y[p] - b[offset + p]) * (y[p] - b[offset + p]);
            }
        AssertClose(BlurKernelFitLoss.Blur(x, kernel).ToDoubleArray(), blurred, 1e-12, "x ∗ k");
        Assert.That(BlurKernelFitLoss.Compute(x, xHat, kernel).Item(), Is.EqualTo(expected / n).Within(1e-11));
    }

    [Test]
    public void RejectsMismatchedArguments()
    {
        var x = Tensor.Zeros([2, 3, 6, 6], DType.Float64);
        Assert.That(() => BlurKernelFitLoss.Compute(x, Tensor.Zeros([2, 1, 6, 6], DType.Float64), Delta(2, 3)),
            Throws.ArgumentException.With.Message.Contains("xHat"));
        Assert.That(() => BlurKernelFitLoss.Compute(x, x, Delta(1, 3)), Throws.ArgumentException.With.Message.Contains("one per image"));
        Assert.That(() => BlurKernelFitLoss.Blur(Tensor.Zeros([2, 6, 6], DType.Float64), Delta(2, 3)), Throws.ArgumentException.With.Message.Contains("[N, C, H, W]"));
    }
}
