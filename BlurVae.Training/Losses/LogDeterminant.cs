
namespace BlurVae.Training.Losses;

/// <summary>
/// ½·log|Σ| of the Wiener likelihood (paper §3.4), the normalising term that belongs beside
/// <see cref="WienerBlurLoss"/> in the negative log-likelihood:
///   −log p(x|z) = (D/2)·log 2π + ½·log|Σ| + ½·(x − x̂)ᵀ Σ⁻¹ (x − x̂),   D = C·H·W.
/// <para>
/// Derivation. Σ⁻¹ = WᵀW where W is the real block-circulant matrix (one identical block per channel) whose
/// eigenvalues are the Wiener filter values W_f = conj(F_k)/(|F_k|² + C), F_k the unnormalised OTF of
/// <see cref="BlurKernelOtf"/>. det W = Π_f W_f (conjugate pairs make it real), so per channel
///   log|Σ| = −log|Σ⁻¹| = −log det(W)² = −Σ_f log|W_f|²,  and  ½·log|Σ| = −½·Σ_f log|W_f|².
/// <see cref="ComputeExact"/> evaluates this: ½·Σ_f [2·log(|F_k|² + C) − log|F_k|²], infinite where the kernel
/// removes a frequency (Σ⁻¹ is then singular).
/// </para>
/// <para>
/// The paper instead approximates the inverse filter. 1/W_f = F_k + C/conj(F_k), whose second term cannot be
/// evaluated where F_k → 0, so W⁻¹ is replaced by K(ε) = K + εI, the blur matrix plus ε times the identity, with
/// eigenvalues F_k(f) + ε (ε added to the complex eigenvalue, not to its modulus). Then Σ = W⁻¹W⁻ᵀ ≈ K(ε)K(ε)ᵀ,
/// |Σ| = |det K(ε)|² (the paper's "|Σ_k| = 2|K|" is this in log form), and
///   ½·log|Σ| ≈ log|det K(ε)| = Σ_f log|F_k(f) + ε|   per channel  (<see cref="Compute"/>).
/// For C = 0 and ε = 0 both forms are log|det K|. The kernel is centred at (0, 0) exactly as in the Wiener loss
/// and the kernel fit, which matters here: a shifted kernel multiplies F_k by a phase that changes |F_k + ε|.
/// </para>
/// <para>
/// Sums run over the full H×W spectrum (the half spectrum with interior columns counted twice: |F_k(−f) + ε| =
/// |F_k(f) + ε| because ε is real) and over the C channels, whose covariance blocks are identical; the result is
/// averaged over the batch, matching the other terms. Sign: the value returned is +½·log|Σ|, to be ADDED to the
/// minimised loss (the paper's eq. 11 prints the terms with mixed signs; minimising ½log|Σ| + ½‖W·ΔF‖² + KL is the
/// consistent form). The constant (D/2)·log 2π is left out. Differentiable in the kernel.
/// </para>
/// </summary>
public static class LogDeterminant
{
    private const string Name = "LogDeterminant";

    /// <summary>The paper's ½·log|Σ| ≈ channels·Σ_f log|F_k(f) + ε| per image, mean over the batch.</summary>
    /// <param name="kernel">Blur kernels [N, ks, ks], ks odd.</param>
    /// <param name="channels">Image channels C (the covariance acts on each channel alike).</param>
    /// <param name="height">Image height H ≥ ks.</param>
    /// <param name="width">Image width W ≥ ks.</param>
    /// <param name="eps">ε ≥ 0 added to the blur matrix; with ε = 0 a removed frequency gives −∞.</param>
    public static Tensor Compute(Tensor kernel, int channels, int height, int width, double eps) =>
        PerImage(kernel, channels, height, width, eps).Sum() * (1.0 / kernel.Shape[0]);

    /// <summary>The paper's ½·log|Σ| of each image, [N] (what <see cref="Compute"/> averages).</summary>
    public static Tensor PerImage(Tensor kernel, int channels, int height, int width, double eps)
    {
        CheckChannels(channels);
        LossArguments.CheckNonNegative(Name, eps, nameof(eps));
        var otf = BlurKernelOtf.Compute(kernel, height, width);
        var shift = Tensor.FromArray([eps, 0.0], [2], otf.DType, otf.Backend);
        var logModulusSquared = HalfSpectrum.AbsSquared(otf + shift).Log();       // log|F_k + ε|², [N, H, W/2+1]
        return (logModulusSquared * HalfSpectrum.ColumnMultiplicity(width, otf)).Sum([1, 2]) * (0.5 * channels);
    }

    /// <summary>The exact ½·log|Σ| = −½·channels·Σ_f log|W_f|² for the Wiener filter with constant c, mean over the batch.</summary>
    public static Tensor ComputeExact(Tensor kernel, int channels, int height, int width, double c = WienerBlurLoss.DefaultC)
    {
        CheckChannels(channels);
        LossArguments.CheckNonNegative(Name, c, nameof(c));
        var power = HalfSpectrum.AbsSquared(BlurKernelOtf.Compute(kernel, height, width));     // |F_k|²
        var perFrequency = 2.0 * (power + c).Log() - power.Log();                           // −log|W_f|²
        return (perFrequency * HalfSpectrum.ColumnMultiplicity(width, power)).Sum() * (0.5 * channels / kernel.Shape[0]);
    }

    private static void CheckChannels(int channels)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, $"{Name}: the image must have at least one channel.");
    }
}
