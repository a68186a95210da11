
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class SharpnessTests
{
    [Test]
    public void ImageAgainstItselfGivesOne()
    {
        var x = Tensor.Uniform([2, 3, 12, 10], -1, 1, new Random(1), DType.Float64);
        foreach (var r in Sharpness.HighFrequencyRatioPerImage(x, x.Clone()))
            Assert.That(r, Is.EqualTo(1.0).Within(1e-12));
    }

    [Test]
    public void BoxBlurredImageHasLessHighFrequencyEnergy()
    {
        int n = 3, c = 2, h = 12, w = 16;
        var x = Tensor.Uniform([n, c, h, w], -0.9, 0.9, new Random(2), DType.Float64);
        var blurred = Tensor.FromArray(BoxBlur3x3(x.ToDoubleArray(), n * c, h, w), x.Shape);
        var ratios = Sharpness.HighFrequencyRatioPerImage(blurred, x);
        foreach (var r in ratios)
        {
            Assert.That(r, Is.LessThan(0.6), "a 3×3 box blur removes most energy beyond a quarter of Nyquist");
            Assert.That(r, Is.GreaterThan(0.0));
        }
        // The other way round the "reconstruction" is sharper than its "original".
        foreach (var r in Sharpness.HighFrequencyRatioPerImage(x, blurred)) Assert.That(r, Is.GreaterThan(1.0));
    }

    [Test]
    public void CosinesAboveTheCutoffCountAndThoseBelowDoNot()
    {
        // 16×16: a low cosine at f = 1/16 (inside f_c = 0.25·½ = 0.125) and a high one at f = 4/16 = 0.25 (outside).
        // Halving the high one's amplitude gives a ratio of ¼ whatever the low one does.
        int h = 16, w = 16;
        var original = Image(h, w, (m, n) => 0.5 * Math.Cos(2 * Math.PI * n / w) + 0.4 * Math.Cos(2 * Math.PI * 4 * n / w));
        var recon = Image(h, w, (m, n) => 0.1 * Math.Cos(2 * Math.PI * n / w) + 0.2 * Math.Cos(2 * Math.PI * 4 * n / w));
        Assert.That(Sharpness.HighFrequencyRatioPerImage(recon, original)[0], Is.EqualTo(0.25).Within(1e-12));
        // A vertical cosine behaves the same (f_y wraps k > H/2 to negative frequencies).
        var originalV = Image(h, w, (m, n) => 0.4 * Math.Cos(2 * Math.PI * 5 * m / h));
        var reconV = Image(h, w, (m, n) => 0.3 * Math.Cos(2 * Math.PI * 5 * m / h));
        Assert.That(Sharpness.HighFrequencyRatioPerImage(reconV, originalV)[0], Is.EqualTo(0.5625).Within(1e-12));
    }

    [Test]
    public void CutoffIsRadial()
    {
        // f = 3/16 along one axis is 0.1875, inside f_c = 0.5·½ = 0.25; the diagonal (3, 3)/16 has |f| = 0.265, outside.
        int h = 16, w = 16;
        var original = Image(h, w, (m, n) => 0.4 * Math.Cos(2 * Math.PI * 3 * (m + n) / 16.0) + 0.4 * Math.Cos(2 * Math.PI * 3 * n / 16.0));
        var recon = Image(h, w, (m, n) => 0.2 * Math.Cos(2 * Math.PI * 3 * (m + n) / 16.0) + 0.1 * Math.Cos(2 * Math.PI * 3 * n / 16.0));
        Assert.That(Sharpness.HighFrequencyRatioPerImage(recon, original, cutoff: 0.5)[0], Is.EqualTo(0.25).Within(1e-12));
        // With the default cut-off both cosines count: (0.2² + 0.1²) / (0.4² + 0.4²).
        Assert.That(Sharpness.HighFrequencyRatioPerImage(recon, original)[0], Is.EqualTo(0.05 / 0.32).Within(1e-12));
    }

    [Test]
    public void NyquistColumnOfOddAndEvenWidthsIsWeightedRight()
    {
        // Energy is counted as on the full spectrum: Σ over the half spectrum with interior columns doubled equals,
        // for a ratio of two images, the full-spectrum ratio computed here with a naive 2-D DFT.
        foreach (var (h, w) in new[] { (8, 8), (7, 9), (6, 5) })
        {
            var a = Tensor.Uniform([1, 1, h, w], -1, 1, new Random(h * 31 + w), DType.Float64);
            var b = Tensor.Uniform([1, 1, h, w], -1, 1, new Random(h * 17 + w), DType.Float64);
            double expected = FullSpectrumHighEnergy(b.ToDoubleArray(), h, w, 0.25) / FullSpectrumHighEnergy(a.ToDoubleArray(), h, w, 0.25);
            Assert.That(Sharpness.HighFrequencyRatioPerImage(b, a)[0], Is.EqualTo(expected).Within(1e-10), $"{h}×{w}");
        }
    }

    [Test]
    public void DegenerateOriginalsWithoutHighFrequencies()
    {
        var flat = Tensor.Full([1, 1, 8, 8], 0.3, DType.Float32);
        var flat2 = Tensor.Full([1, 1, 8, 8], -0.2, DType.Float32);
        var noisy = Tensor.Uniform([1, 1, 8, 8], -1, 1, new Random(5));
        Assert.Multiple(() =>
        {
            Assert.That(Sharpness.HighFrequencyRatioPerImage(flat2, flat)[0], Is.EqualTo(1.0), "no high frequencies on either side");
            Assert.That(Sharpness.HighFrequencyRatioPerImage(noisy, flat)[0], Is.EqualTo(double.PositiveInfinity));
            Assert.That(Sharpness.HighFrequencyRatioPerImage(flat, noisy)[0], Is.EqualTo(0.0).Within(1e-20));
        });
    }

    [Test]
    public void BadCutoffThrows()
    {
        var x = Tensor.Zeros([1, 1, 4, 4]);
        Assert.That(() => Sharpness.HighFrequencyRatioPerImage(x, x, -0.1), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => Sharpness.HighFrequencyRatioPerImage(x, x, 1.5), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => Sharpness.HighFrequencyRatioPerImage(x, x, double.NaN), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    private static Tensor Image(int h, int w, Func<int, int, double> f)
    {
        var v = new double[h * w];
        for (int m = 0; m < h; m++)
            for (int n = 0; n < w; n++) v[m * w + n] = f(m, n);
        return Tensor.FromArray(v, [1, 1, h, w]);
    }

    // Circular 3×3 mean filter on each [h, w] plane.
    private static double[] BoxBlur3x3(double[] x, int planes, int h, int w)
    {
        var y = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int m = 0; m < h; m++)
                for (int n = 0; n < w; n++)
                {
                    double s = 0;
                    for (int du = -1; du <= 1; du++)
                        for (int dv = -1; dv <= 1; dv++)
                            s += x[p * h * w + (m + du + h) % h * w + (n + dv + w) % w];
                    y[p * h * w + m * w + n] = s / 9;
                }
        return y;
    }

    // Σ |X(k, l)|² over the full spectrum where the radial frequency exceeds cutoff·½, on (x + 1)/2 pixels.
    private static double FullSpectrumHighEnergy(double[] x, int h, int w, double cutoff)
    {
        double e = 0;
        for (int k = 0; k < h; k++)
            for (int l = 0; l < w; l++)
            {
                double fy = (k <= h / 2 ? k : k - h) / (double)h, fx = (l <= w / 2 ? l : l - w) / (double)w;
                if (Math.Sqrt(fy * fy + fx * fx) <= cutoff * 0.5) continue;
                double re = 0, im = 0;
                for (int m = 0; m < h; m++)
                    for (int n = 0; n < w; n++)
                    {
                        double ang = -2 * Math.PI * ((double)k * m / h + (double)l * n / w), v = (x[m * w + n] + 1) / 2;
                        re += v * Math.Cos(ang);
                        im += v * Math.Sin(ang);
                    }
                e += re * re + im * im;
            }
        return e;
    }
}
