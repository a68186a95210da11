
namespace BlurVae.Training.Losses;

/// <summary>
/// The blur-minimising reconstruction term of the paper (eq. 7–8): ½‖W·(F(x) − F(x̂))‖² with the Wiener filter
/// W = conj(F_k) / (|F_k|² + C) of a per-image blur kernel k, i.e. the Mahalanobis term ½(x − x̂)ᵀΣ⁻¹(x − x̂) of
/// a Gaussian likelihood with Σ⁻¹ = WᵀW.
/// <para>
/// Scaling: F is the orthonormal 2-D DFT (Parseval: ‖F(e)‖² = ‖e‖²), evaluated on Rfft2's half spectrum with
/// the interior columns counted twice (as the unnormalised transform, its 1/(H·W) in the fused op's scale), so with
/// W ≡ 1 (a delta kernel and C = 0) the term is exactly ½‖x − x̂‖², the <see cref="L2Loss"/>. F_k is the unnormalised OTF of <see cref="BlurKernelOtf"/> (the eigenvalues of the
/// blur matrix K), so W is exactly the filter that undoes the circular blur of <see cref="BlurKernelFitLoss"/>.
/// </para>
/// <para>
/// Reduction: summed over pixels (frequencies) and channels, averaged over the batch. One kernel per image
/// filters all of its channels. The norm only sees |W|² = |F_k|²/(|F_k|² + C)², so that real gain is what is
/// computed, together with the weighting and the sum, by one fused op (<see cref="WienerWeightFunction"/>) over the
/// error and kernel spectra; it is differentiable in x, x̂ and the kernel.
/// </para>
/// <para>
/// In the ELBO the trainer minimises Compute + <see cref="LogDeterminant"/> (½log|Σ|; the paper drops it for a
/// large ε, where it is nearly constant) + the <see cref="KlDivergence"/>, and fits the kernel generator with
/// <see cref="BlurKernelFitLoss"/> on detached images.
/// </para>
/// </summary>
public static class WienerBlurLoss
{
    /// <summary>The paper's Wiener constant (its ablation finds C ≤ 0.025 robust).</summary>
    public const double DefaultC = 0.025;

    private const string Name = "WienerBlurLoss";

    /// <summary>½‖W·(F(x) − F(x̂))‖² per image, summed over channels and frequencies, mean over the batch (one op:
    /// the mean is finished in the launch that computes the images' terms).</summary>
    /// <param name="x">Target images [N, C, H, W].</param>
    /// <param name="xHat">Reconstructions, same shape and dtype.</param>
    /// <param name="kernel">One blur kernel per image [N, ks, ks], ks odd and ≤ H, W.</param>
    /// <param name="c">The Wiener constant C ≥ 0; with C = 0 a frequency the kernel removes makes the loss NaN.</param>
    public static Tensor Compute(Tensor x, Tensor xHat, Tensor kernel, double c = DefaultC) => Evaluate(x, xHat, kernel, c, perImage: null);

    /// <summary>½‖W·(F(x) − F(x̂))‖² of each image, [N] (what <see cref="Compute"/> averages; the ELBO evaluation reports it per image).</summary>
    public static Tensor PerImage(Tensor x, Tensor xHat, Tensor kernel, double c = DefaultC)
    {
        LossArguments.CheckImages(Name, x, xHat);
        var unnormalised = Tensor.Empty([x.Shape[0]], x.DType, x.Backend);
        Evaluate(x, xHat, kernel, c, unnormalised).Release();
        return unnormalised * (1.0 / (x.Shape[2] * x.Shape[3]));
    }

    // The batch mean, and each image's term times H·W (the unnormalised spectrum's) into perImage when given: one
    // fused op computes both.
    private static Tensor Evaluate(Tensor x, Tensor xHat, Tensor kernel, double c, Tensor? perImage)
    {
        LossArguments.CheckImages(Name, x, xHat);
        LossArguments.CheckKernelForImages(Name, kernel, x);
        LossArguments.CheckNonNegative(Name, c, nameof(c));
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        // F is linear, so F(x) − F(x̂) = F(x − x̂): one transform instead of two. Unnormalised: the orthonormal F is
        // this over √(H·W), and |F e|² enters the loss only squared, so the 1/(H·W) joins the batch mean's 1/N as the
        // op's scale instead of a pass over the spectrum forward and another backward.
        var error = (x - xHat).Rfft2(FftNorm.Backward);                                // √(H·W)·(F(x) − F(x̂)), [N, C, H, W/2+1, 2]
        // |W|², the column multiplicities, the ½, the sum over the images and the 1/(N·H·W) are one fused op over the two spectra.
        return WienerWeightFunction.Forward(BlurKernelOtf.Compute(kernel, h, w), error, w, c, 1.0 / ((double)n * h * w), perImage);
    }

    /// <summary>The Wiener filter W = conj(F_k)/(|F_k|² + C) on the half spectrum: [N, H, W/2+1, 2].</summary>
    public static Tensor Filter(Tensor kernel, int height, int width, double c = DefaultC)
    {
        LossArguments.CheckNonNegative(Name, c, nameof(c));
        var otf = BlurKernelOtf.Compute(kernel, height, width);
        var conjugate = Tensor.FromArray([1.0, -1.0], [2], otf.DType, otf.Backend);
        var denominator = (HalfSpectrum.AbsSquared(otf) + c).Reshape(kernel.Shape[0], height, width / 2 + 1, 1);
        return otf * conjugate / denominator;
    }

    /// <summary>|W|² = |F_k|²/(|F_k|² + C)² on the half spectrum: [N, H, W/2+1].</summary>
    public static Tensor PowerGain(Tensor kernel, int height, int width, double c = DefaultC)
    {
        LossArguments.CheckNonNegative(Name, c, nameof(c));
        var power = HalfSpectrum.AbsSquared(BlurKernelOtf.Compute(kernel, height, width));
        return power / (power + c).Square();
    }
}
