using BlurVae.Training.Losses;

namespace BlurVae.Training.Metrics;

/// <summary>
/// The per-image negative ELBO (paper Table 6), −ELBO = −log p(x|z) + KL(q(z|x) ‖ N(0, I)), with every constant, under
/// two Gaussian likelihoods of the decoder mean x̂ (pixels in [−1, 1], D = C·H·W):
/// <list type="bullet">
/// <item><b>Σ = I</b>: −log p = (D/2)·log 2π + ½‖x − x̂‖²;</item>
/// <item><b>ours</b>, Σ⁻¹ = WᵀW with the Wiener filter W of k = G_γ(z) (docs/method.md):
///   −log p = (D/2)·log 2π + ½·log|Σ| + ½‖W(x − x̂)‖², with ½·log|Σ| ≈ C·Σ_f log|F_k(f) + ε| (the paper's K + εI
///   at a chosen ε; the paper reports ε = 0.5), exactly <see cref="LogDeterminant.Compute"/>.</item>
/// </list>
/// Bits per dimension divide the nats by D·ln 2. These are densities of continuous pixels on the [−1, 1] scale (no
/// dequantisation), so they compare methods with each other, not with discrete-data bits/dim of other papers.
/// </summary>
public static class NegativeElbo
{
    /// <summary>(D/2)·log 2π, the Gaussian's normalising constant.</summary>
    public static double GaussianConstant(int dimensions) => 0.5 * dimensions * Math.Log(2 * Math.PI);

    /// <summary>Nats → bits per dimension.</summary>
    public static double BitsPerDimension(double nats, int dimensions) => nats / (dimensions * Math.Log(2));

    /// <summary>−ELBO in nats under Σ = I for each image of x [N, C, H, W], with the KL of each image's posterior.</summary>
    public static double[] IdentityCovariance(Tensor x, Tensor xHat, Tensor mu, Tensor logVar)
    {
        int n = x.Shape[0], d = x.Length / n;
        var a = x.ToDoubleArray();
        var b = xHat.ToDoubleArray();
        var kl = KlPerImage(mu, logVar);
        var result = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = i * d; j < (i + 1) * d; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
            result[i] = GaussianConstant(d) + 0.5 * s + kl[i];
        }
        return result;
    }

    /// <summary>−ELBO in nats under the Wiener covariance of kernels [N, ks, ks], log-determinant at ε, Wiener constant c.</summary>
    public static double[] WienerCovariance(Tensor x, Tensor xHat, Tensor kernel, Tensor mu, Tensor logVar, double eps, double c)
    {
        int n = x.Shape[0], channels = x.Shape[1], height = x.Shape[2], width = x.Shape[3];
        var kl = KlPerImage(mu, logVar);
        var error = WienerBlurLoss.PerImage(x, xHat, kernel, c).ToDoubleArray();
        var halfLogDet = LogDeterminant.PerImage(kernel, channels, height, width, eps).ToDoubleArray();
        var result = new double[n];
        for (int i = 0; i < n; i++) result[i] = GaussianConstant(channels * height * width) + halfLogDet[i] + error[i] + kl[i];
        return result;
    }

    /// <summary>KL(q(z|x) ‖ N(0, I)) = −½ Σ_j (1 + log σ²_j − μ²_j − σ²_j) of each image.</summary>
    public static double[] KlPerImage(Tensor mu, Tensor logVar)
    {
        var m = mu.ToDoubleArray();
        var lv = logVar.ToDoubleArray();
        int n = mu.Shape[0], per = m.Length / n;
        var result = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = i * per; j < (i + 1) * per; j++) result[i] += -0.5 * (1 + lv[j] - m[j] * m[j] - Math.Exp(lv[j]));
        return result;
    }
}
