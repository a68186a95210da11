
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class SsimTests
{
    [Test]
    public void IdenticalImagesGiveOne()
    {
        var x = Tensor.Uniform([2, 3, 16, 12], -1, 1, new Random(1));
        var stats = Ssim.Compute(x, x.Clone());
        Assert.That(stats.Mean, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(stats.Std, Is.EqualTo(0.0).Within(1e-12));
    }

    [Test]
    public void ConstantImagesReduceToTheLuminanceTerm()
    {
        // No variance anywhere: SSIM = (2ab + C1) / (a² + b² + C1) with C1 = 0.01², exactly, on [0, 1] values a, b.
        double a = 0.3, b = 0.7;
        var x = Tensor.Full([1, 1, 11, 11], 2 * a - 1, DType.Float64);
        var y = Tensor.Full([1, 1, 11, 11], 2 * b - 1, DType.Float64);
        double c1 = 1e-4;
        Assert.That(Ssim.PerImage(x, y)[0], Is.EqualTo((2 * a * b + c1) / (a * a + b * b + c1)).Within(1e-12));
    }

    [Test]
    public void WindowIsNormalisedSymmetricGaussian()
    {
        var g = Ssim.GaussianWindow();
        Assert.That(g, Has.Length.EqualTo(11));
        Assert.That(g.Sum(), Is.EqualTo(1.0).Within(1e-15));
        for (int i = 0; i < 11; i++) Assert.That(g[i], Is.EqualTo(g[10 - i]).Within(1e-18));
        // exp(−1/(2·1.5²)) between neighbours of the centre, and the centre weight 1 / Σ_{i=−5..5} exp(−i²/4.5).
        Assert.That(g[6] / g[5], Is.EqualTo(Math.Exp(-1 / 4.5)).Within(1e-15));
        Assert.That(g[5], Is.EqualTo(0.2660117).Within(1e-7));
    }

    [TestCase(11, 11), TestCase(13, 17), TestCase(20, 12)]
    public void MatchesDirectDoubleLoopFromTheDefinition(int h, int w)
    {
        int n = 2, c = 3;
        var a = Tensor.Uniform([n, c, h, w], -1, 1, new Random(h * w), DType.Float64);
        // y = 0.6·x + noise: correlated but not identical, with values beyond ±1 so clamping is exercised too.
        var noise = Tensor.Uniform([n, c, h, w], -0.7, 0.7, new Random(h + w), DType.Float64);
        var b = a * 0.6 + noise + 0.2;
        var ssim = Ssim.PerImage(b, a);
        var x = a.ToDoubleArray().Select(v => Math.Clamp((v + 1) / 2, 0, 1)).ToArray();
        var y = b.ToDoubleArray().Select(v => Math.Clamp((v + 1) / 2, 0, 1)).ToArray();
        for (int i = 0; i < n; i++)
        {
            double expected = 0;
            for (int ch = 0; ch < c; ch++)
                expected += DirectSsim(x.AsSpan((i * c + ch) * h * w, h * w), y.AsSpan((i * c + ch) * h * w, h * w), h, w);
            expected /= c;
            Assert.That(ssim[i], Is.EqualTo(expected).Within(1e-12), $"image {i}");
            Assert.That(ssim[i], Is.LessThan(0.99), "a noisy copy is not structurally identical");
        }
    }

    [Test]
    public void MatchesScikitImageReferenceValues()
    {
        // Reference values from scikit-image 0.19.3:
        //   structural_similarity(y01, x01, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        //                         data_range=1.0, channel_axis=0)
        // with x = 0.8·sin(0.3m + 0.7n + c), y = 0.7x + 0.25·cos(1.3m − 0.4n + 2c) on a 3×16×20 grid (c, m, n), and
        // v01 = (v + 1)/2; the second value is channel 1 cropped to 12×11, as a single-channel image.
        int c = 3, h = 16, w = 20;
        var x = new double[c * h * w];
        var y = new double[c * h * w];
        for (int ch = 0; ch < c; ch++)
            for (int m = 0; m < h; m++)
                for (int n = 0; n < w; n++)
                {
                    int i = (ch * h + m) * w + n;
                    x[i] = 0.8 * Math.Sin(0.3 * m + 0.7 * n + ch);
                    y[i] = 0.7 * x[i] + 0.25 * Math.Cos(1.3 * m - 0.4 * n + 2 * ch);
                }
        Assert.That(Ssim.PerImage(Tensor.FromArray(y, [1, c, h, w]), Tensor.FromArray(x, [1, c, h, w]))[0], Is.EqualTo(0.8575620301328738).Within(1e-12));

        var xs = new double[12 * 11];
        var ys = new double[12 * 11];
        for (int m = 0; m < 12; m++)
            for (int n = 0; n < 11; n++)
            {
                xs[m * 11 + n] = x[(1 * h + m) * w + n];
                ys[m * 11 + n] = y[(1 * h + m) * w + n];
            }
        Assert.That(Ssim.PerImage(Tensor.FromArray(ys, [1, 1, 12, 11]), Tensor.FromArray(xs, [1, 1, 12, 11]))[0], Is.EqualTo(0.8739538689470181).Within(1e-12));
    }

    [Test]
    public void IsSymmetricAndBelowOneForDifferentImages()
    {
        var a = Tensor.Uniform([3, 1, 14, 14], -1, 1, new Random(7), DType.Float64);
        var b = Tensor.Uniform([3, 1, 14, 14], -1, 1, new Random(8), DType.Float64);
        var ab = Ssim.PerImage(a, b);
        var ba = Ssim.PerImage(b, a);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(ab[i], Is.EqualTo(ba[i]).Within(1e-14));
            Assert.That(ab[i], Is.LessThan(0.5), "independent noise images are dissimilar");
        }
    }

    [TestCase(10, 11), TestCase(11, 10), TestCase(5, 5)]
    public void ImagesSmallerThanTheWindowAreRejected(int h, int w)
    {
        var x = Tensor.Zeros([1, 1, h, w]);
        Assert.That(() => Ssim.PerImage(x, x), Throws.ArgumentException.With.Message.Contains("at least 11×11"));
    }

    // SSIM written straight from Wang et al. (2004): the full 2-D Gaussian window, weighted means, and weighted
    // (population) variances and covariance as Σ w·(x − μx)(y − μy), averaged over all valid window positions.
    private static double DirectSsim(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int h, int w)
    {
        var win = new double[11, 11];
        double total = 0;
        for (int u = 0; u < 11; u++)
            for (int v = 0; v < 11; v++)
                total += win[u, v] = Math.Exp(-((u - 5) * (u - 5) + (v - 5) * (v - 5)) / (2 * 1.5 * 1.5));
        double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03, sum = 0;
        int count = 0;
        for (int i = 0; i + 11 <= h; i++)
            for (int j = 0; j + 11 <= w; j++)
            {
                double mx = 0, my = 0;
                for (int u = 0; u < 11; u++)
                    for (int v = 0; v < 11; v++)
                    {
                        mx += win[u, v] / total * x[(i + u) * w + j + v];
                        my += win[u, v] / total * y[(i + u) * w + j + v];
                    }
                double sxx = 0, syy = 0, sxy = 0;
                for (int u = 0; u < 11; u++)
                    for (int v = 0; v < 11; v++)
                    {
                        double wt = win[u, v] / total, dx = x[(i + u) * w + j + v] - mx, dy = y[(i + u) * w + j + v] - my;
                        sxx += wt * dx * dx;
                        syy += wt * dy * dy;
                        sxy += wt * dx * dy;
                    }
                sum += (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
                count++;
            }
        return sum / count;
    }
}
