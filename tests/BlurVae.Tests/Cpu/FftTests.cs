
namespace BlurVae.Tests.Cpu;

[TestFixture, Category("Cpu")]
public class FftTests
{
    // Powers of two, the 28 of MNIST, primes and 1.
    [TestCase(2, 32, 32), TestCase(3, 28, 28), TestCase(1, 7, 11), TestCase(2, 1, 5), TestCase(1, 41, 6), TestCase(1, 64, 64)]
    public void Rfft2MatchesDefinitionAndInverts(int batch, int h, int w)
    {
        var x = Tensor.Randn([batch, h, w], new Random(h * w), DType.Float64);
        var spec = x.Rfft2();
        Assert.That(spec.Shape, Is.EqualTo(new[] { batch, h, w / 2 + 1, 2 }));
        Reference.AssertClose(spec.ToDoubleArray(), Reference.Rfft2(x.ToDoubleArray(), batch, h, w), 1e-9, 1e-9, "rfft2");
        Reference.AssertClose(spec.Irfft2(w).ToDoubleArray(), x.ToDoubleArray(), 1e-12, 1e-12, "irfft2(rfft2(x))");
        var x32 = x.To(DType.Float32);
        Reference.AssertClose(x32.Rfft2(FftNorm.Ortho).Irfft2(w, FftNorm.Ortho).ToDoubleArray(), x.ToDoubleArray(), 1e-5, 1e-5, "float32 round trip");
    }

    [Test]
    public void OrthoNormSatisfiesParseval()
    {
        // With norm="ortho" the half spectrum carries every interior bin once for two: Σ|x|² = Σ_k w_k |X_k|².
        int h = 6, w = 10;
        var x = Tensor.Randn([1, h, w], new Random(3), DType.Float64);
        var s = x.Rfft2(FftNorm.Ortho).ToDoubleArray();
        double energy = 0;
        for (int k1 = 0; k1 < h; k1++)
            for (int k2 = 0; k2 <= w / 2; k2++)
            {
                double weight = k2 == 0 || k2 == w / 2 ? 1 : 2;
                int o = (k1 * (w / 2 + 1) + k2) * 2;
                energy += weight * (s[o] * s[o] + s[o + 1] * s[o + 1]);
            }
        Assert.That(energy, Is.EqualTo(x.Square().Sum().Item()).Within(1e-10));
    }

    [Test]
    public void Irfft2IgnoresImaginaryPartOfDcColumnLikeTorch()
    {
        // torch.fft.irfft2 of a spectrum whose only entry is 1j at (0,0) is all zeros.
        var c = Tensor.Zeros([1, 4, 3, 2], DType.Float64);
        var v = c.ToDoubleArray();
        v[1] = 1.0;
        var y = Tensor.FromArray(v, [1, 4, 3, 2]).Irfft2(4).ToDoubleArray();
        Assert.That(y, Is.All.EqualTo(0.0).Within(1e-15));
    }
}
