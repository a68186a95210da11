
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class NegativeElboTests
{
    [Test]
    public void DeltaKernelCaseByHand()
    {
        // A delta kernel has F_k = 1 at every frequency, so W_f = 1/(1 + c), ½‖W Δ‖² = ½‖Δ‖²/(1 + c)² (Parseval, orthonormal
        // FFT) and ½ log|Σ| ≈ C·Σ_f log|1 + ε| = D·log(1 + ε). Everything else is written out here from the formulas.
        const int n = 2, channels = 3, side = 8, ks = 3, latent = 4;
        const double eps = 0.5, c = 0.025;
        var rng = new Random(3);
        var x = Tensor.Uniform([n, channels, side, side], -1, 1, rng, DType.Float64);
        var xHat = Tensor.Uniform([n, channels, side, side], -1, 1, rng, DType.Float64);
        var mu = Tensor.Uniform([n, latent], -1, 1, rng, DType.Float64);
        var logVar = Tensor.Uniform([n, latent], -1, 1, rng, DType.Float64);
        var delta = new double[n * ks * ks];
        for (int i = 0; i < n; i++) delta[i * ks * ks + ks * ks / 2] = 1;
        var kernel = Tensor.FromArray(delta, [n, ks, ks], DType.Float64);

        var identity = NegativeElbo.IdentityCovariance(x, xHat, mu, logVar);
        var wiener = NegativeElbo.WienerCovariance(x, xHat, kernel, mu, logVar, eps, c);
        var a = x.ToDoubleArray();
        var b = xHat.ToDoubleArray();
        var m = mu.ToDoubleArray();
        var lv = logVar.ToDoubleArray();
        int d = channels * side * side;
        for (int i = 0; i < n; i++)
        {
            double squared = 0, kl = 0;
            for (int j = 0; j < d; j++) squared += Math.Pow(a[i * d + j] - b[i * d + j], 2);
            for (int j = 0; j < latent; j++)
            {
                double mj = m[i * latent + j], lj = lv[i * latent + j];
                kl += 0.5 * (mj * mj + Math.Exp(lj) - 1 - lj);
            }
            double constant = 0.5 * d * Math.Log(2 * Math.PI);
            double expectedIdentity = constant + 0.5 * squared + kl;
            double expectedWiener = constant + d * Math.Log(1 + eps) + 0.5 * squared / ((1 + c) * (1 + c)) + kl;
            Assert.Multiple(() =>
            {
                Assert.That(identity[i], Is.EqualTo(expectedIdentity).Within(1e-9 * expectedIdentity));
                Assert.That(wiener[i], Is.EqualTo(expectedWiener).Within(1e-9 * expectedWiener));
                Assert.That(NegativeElbo.BitsPerDimension(expectedIdentity, d), Is.EqualTo(expectedIdentity / d / Math.Log(2)).Within(1e-15 * expectedIdentity));
            });
        }
    }

    [Test]
    public void GaussianConstantOfOnePixel() =>
        // −log N(0; 0, 1) = ½ log 2π ≈ 0.9189385332
        Assert.That(NegativeElbo.GaussianConstant(1), Is.EqualTo(0.9189385332046727).Within(1e-15));
}
