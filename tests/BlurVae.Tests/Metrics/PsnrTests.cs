
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class PsnrTests
{
    [Test]
    public void ConstantErrorGivesTenLog10OfOneOverSquaredError()
    {
        // [0, 1] errors of 0.1 (image 0) and 0.01 (image 1) are [−1, 1] offsets of 0.2 and 0.02: 20 dB and 40 dB.
        var original = Tensor.Uniform([2, 3, 4, 5], -0.5, 0.5, new Random(1), DType.Float64);
        var o = original.ToDoubleArray();
        var r = new double[o.Length];
        int per = o.Length / 2;
        for (int i = 0; i < o.Length; i++) r[i] = o[i] + (i < per ? 0.2 : -0.02);
        var recon = Tensor.FromArray(r, original.Shape);

        var psnr = Psnr.PerImage(recon, original);
        Assert.That(psnr[0], Is.EqualTo(20.0).Within(1e-9));
        Assert.That(psnr[1], Is.EqualTo(40.0).Within(1e-9));
        var stats = Psnr.Compute(recon, original);
        Assert.Multiple(() =>
        {
            Assert.That(stats.Mean, Is.EqualTo(30.0).Within(1e-9));
            Assert.That(stats.Std, Is.EqualTo(10.0).Within(1e-9));
            Assert.That(stats.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void MatchesMseFromDefinitionOnRandomImages()
    {
        var a = Tensor.Uniform([3, 1, 6, 7], -1, 1, new Random(2), DType.Float32);
        var b = Tensor.Uniform([3, 1, 6, 7], -1, 1, new Random(3), DType.Float32);
        var x = a.ToDoubleArray();
        var y = b.ToDoubleArray();
        var psnr = Psnr.PerImage(a, b);
        for (int n = 0; n < 3; n++)
        {
            double se = 0;
            for (int j = 0; j < 42; j++)
            {
                double d = (x[n * 42 + j] + 1) / 2 - (y[n * 42 + j] + 1) / 2;
                se += d * d;
            }
            Assert.That(psnr[n], Is.EqualTo(-10 * Math.Log10(se / 42)).Within(1e-9), $"image {n}");
        }
    }

    [Test]
    public void IdenticalImagesAreCappedAtMaxDb()
    {
        var x = Tensor.Uniform([2, 3, 8, 8], -1, 1, new Random(4));
        var stats = Psnr.Compute(x, x.Clone());
        Assert.Multiple(() =>
        {
            Assert.That(stats.Mean, Is.EqualTo(Psnr.MaxDb));
            Assert.That(stats.Std, Is.EqualTo(0.0));
            Assert.That(Psnr.FromMse(0), Is.EqualTo(100.0));
            Assert.That(Psnr.FromMse(1e-12), Is.EqualTo(100.0), "below 1e-10 the cap applies");
            Assert.That(Psnr.FromMse(1e-8), Is.EqualTo(80.0).Within(1e-9));
            Assert.That(Psnr.FromMse(1.0), Is.EqualTo(0.0));
        });
    }

    [Test]
    public void ValuesOutsideMinusOneOneAreClamped()
    {
        // 3 clamps to 1 and −5 to −1: the [0, 1] images are all-ones and all-zeros, MSE 1, PSNR 0 dB.
        var high = Tensor.Full([1, 1, 3, 3], 3.0, DType.Float64);
        var low = Tensor.Full([1, 1, 3, 3], -5.0, DType.Float64);
        Assert.That(Psnr.PerImage(high, low)[0], Is.EqualTo(0.0).Within(1e-12));
    }

    [Test]
    public void BadInputsThrowClearly()
    {
        var x = Tensor.Zeros([2, 1, 4, 4]);
        var nan = Tensor.FromArray([double.NaN, 0, 0, 0], [1, 1, 2, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Psnr.PerImage(x, Tensor.Zeros([2, 1, 4, 5])), Throws.ArgumentException.With.Message.Contains("same shape"));
            Assert.That(() => Psnr.PerImage(Tensor.Zeros([1, 4, 4]), Tensor.Zeros([1, 4, 4])), Throws.ArgumentException.With.Message.Contains("[N, C, H, W]"));
            Assert.That(() => Psnr.PerImage(nan, Tensor.Zeros([1, 1, 2, 2], DType.Float64)), Throws.ArgumentException.With.Message.Contains("NaN"));
            Assert.That(() => Psnr.FromMse(-1), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }
}
