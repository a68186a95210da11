using System.Numerics;
using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class WienerBlurLossTests
{
    [TestCase(3, 1, 7, 9, 3), TestCase(3, 3, 8, 8, 5), TestCase(2, 2, 5, 6, 5)]
    public void DeltaKernelWithoutConstantIsHalfTheSquaredError(int n, int c, int h, int w, int ks)
    {
        // W ≡ 1: Parseval with the orthonormal transform and the doubled interior columns must give ½‖x − x̂‖² exactly.
        var x = Uniform(1, -1, 1, n, c, h, w);
        var xHat = Uniform(2, -1, 1, n, c, h, w);
        double loss = WienerBlurLoss.Compute(x, xHat, Delta(n, ks), c: 0).Item();
        double expected = 0;
        var (a, b) = (x.ToDoubleArray(), xHat.ToDoubleArray());
        for (int i = 0; i < a.Length; i++) expected += 0.5 * (a[i] - b[i]) * (a[i] - b[i]);
        expected /= n;
        Assert.That(loss, Is.EqualTo(expected).Within(1e-12));
        Assert.That(L2Loss.Compute(x, xHat).Item(), Is.EqualTo(expected).Within(1e-12));
    }

    [TestCase(3, 1, 7, 9, 5, 0.025), TestCase(3, 3, 8, 8, 3, 0.01), TestCase(2, 2, 6, 5, 5, 0.5)]
    public void GaussianKernelMatchesDirectEvaluation(int n, int c, int h, int w, int ks, double constant)
    {
        var x = Uniform(3, -1, 1, n, c, h, w);
        var xHat = Uniform(4, -1, 1, n, c, h, w);
        var sigmas = Enumerable.Range(0, n).Select(i => 0.6 + 0.5 * i).ToArray();
        var kernel = Gaussian(ks, sigmas);
        double loss = WienerBlurLoss.Compute(x, xHat, kernel, constant).Item();
        Assert.That(loss, Is.EqualTo(Direct(x, xHat, kernel, constant)).Within(1e-10 * Math.Max(1, Math.Abs(loss))));
    }

    [Test]
    public void AsymmetricKernelMatchesDirectEvaluation()
    {
        // A random kernel has a complex OTF: checks conj(F_k) and the centring, not just the magnitude of a real one.
        var x = Uniform(5, -1, 1, 3, 2, 7, 6);
        var xHat = Uniform(6, -1, 1, 3, 2, 7, 6);
        var kernel = Uniform(7, 0, 1, 3, 3, 3);
        double loss = WienerBlurLoss.Compute(x, xHat, kernel, 0.05).Item();
        Assert.That(loss, Is.EqualTo(Direct(x, xHat, kernel, 0.05)).Within(1e-10 * Math.Abs(loss)));
    }

    [Test]
    public void PowerGainIsTheSquaredModulusOfTheFilter()
    {
        var kernel = Uniform(8, -1, 1, 2, 5, 5);
        var filter = WienerBlurLoss.Filter(kernel, 7, 8, 0.1).ToDoubleArray();
        var gain = WienerBlurLoss.PowerGain(kernel, 7, 8, 0.1).ToDoubleArray();
        Assert.That(gain, Has.Length.EqualTo(filter.Length / 2));
        for (int i = 0; i < gain.Length; i++)
            Assert.That(gain[i], Is.EqualTo(filter[2 * i] * filter[2 * i] + filter[2 * i + 1] * filter[2 * i + 1]).Within(1e-12 * Math.Max(1, gain[i])));
    }

    [Test]
    public void Float32AgreesWithFloat64()
    {
        var x = Uniform(9, -1, 1, 2, 3, 8, 8);
        var xHat = Uniform(10, -1, 1, 2, 3, 8, 8);
        var kernel = Gaussian(5, 0.8, 1.5);
        double l64 = WienerBlurLoss.Compute(x, xHat, kernel).Item();
        double l32 = WienerBlurLoss.Compute(x.To(DType.Float32), xHat.To(DType.Float32), kernel.To(DType.Float32)).Item();
        Assert.That(l32, Is.EqualTo(l64).Within(1e-4 * l64));
    }

    [Test]
    public void RejectsMismatchedArguments()
    {
        var x = Tensor.Zeros([2, 1, 8, 8], DType.Float64);
        var k = Delta(2, 3);
        Assert.That(() => WienerBlurLoss.Compute(x, Tensor.Zeros([2, 1, 8, 7], DType.Float64), k),
            Throws.ArgumentException.With.Message.Contains("xHat").And.Message.Contains("[2, 1, 8, 7]"));
        Assert.That(() => WienerBlurLoss.Compute(x, x.To(DType.Float32), k), Throws.ArgumentException.With.Message.Contains("Float32"));
        Assert.That(() => WienerBlurLoss.Compute(x, x, Delta(3, 3)), Throws.ArgumentException.With.Message.Contains("one per image"));
        Assert.That(() => WienerBlurLoss.Compute(x, x, k.To(DType.Float32)), Throws.ArgumentException.With.Message.Contains("kernel is Float32"));
        Assert.That(() => WienerBlurLoss.Compute(x, x, k, -0.1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("c"));
        Assert.That(() => WienerBlurLoss.Compute(x.Reshape(2, 8, 8), x.Reshape(2, 8, 8), k), Throws.ArgumentException.With.Message.Contains("[N, C, H, W]"));
        Assert.That(() => WienerBlurLoss.Compute(x, x, Delta(2, 9)), Throws.ArgumentException.With.Message.Contains("does not fit"));
    }

    // ½ Σ_full |W_f·(X_f − X̂_f)|² with naive DFTs: W from the unnormalised kernel DFT, the error with 1/sqrt(hw).
    private static double Direct(Tensor x, Tensor xHat, Tensor kernel, double constant)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], ks = kernel.Shape[1];
        var (a, b, k) = (x.ToDoubleArray(), xHat.ToDoubleArray(), kernel.ToDoubleArray());
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var fk = Dft(Embed(k, i, ks, h, w), h, w);
            for (int ch = 0; ch < c; ch++)
            {
                int offset = (i * c + ch) * h * w;
                var fx = Dft(a.AsSpan(offset, h * w), h, w, 1 / Math.Sqrt(h * w));
                var fxHat = Dft(b.AsSpan(offset, h * w), h, w, 1 / Math.Sqrt(h * w));
                for (int f = 0; f < h * w; f++)
                {
                    Complex filter = Complex.Conjugate(fk[f]) / (fk[f].Magnitude * fk[f].Magnitude + constant);
                    double m = (filter * (fx[f] - fxHat[f])).Magnitude;
                    total += 0.5 * m * m;
                }
            }
        }
        return total / n;
    }
}
