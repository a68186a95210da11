
namespace BlurVae.Training.Losses;

/// <summary>
/// The kernel generator's objective (paper eq. 9–10): ‖x ∗ k − x̂‖², how well blurring the input with k
/// explains the reconstruction. The convolution is the circular one of the block-circulant model,
/// x ∗ k = F⁻¹(F(x)·F_k) with the OTF of <see cref="BlurKernelOtf"/> (kernel centred at (0, 0), one kernel per image
/// applied to every channel), so the k it fits is exactly the k whose Wiener filter the ELBO uses. It is a true
/// convolution (the kernel flipped), not PyTorch's cross-correlation; for symmetric kernels they agree.
/// <para>
/// Evaluation: by Parseval on the unnormalised half spectra, one fused op (<see cref="BlurKernelFitFunction"/>, a single
/// kernel on the GPU) instead of the complex product, the inverse transform and the squared difference;
/// <see cref="Blur"/> still forms x ∗ k explicitly.
/// </para>
/// <para>
/// Reduction: summed over pixels and channels, averaged over the batch; no ½. The trainer passes x and x̂
/// detached so only G_γ learns from it, but the gradient is correct for all three inputs.
/// </para>
/// </summary>
public static class BlurKernelFitLoss
{
    private const string Name = "BlurKernelFitLoss";

    /// <summary>Σ_pixels,channels (x ∗ k − x̂)², mean over the batch.</summary>
    public static Tensor Compute(Tensor x, Tensor xHat, Tensor kernel)
    {
        LossArguments.CheckImages(Name, x, xHat);
        LossArguments.CheckKernelForImages(Name, kernel, x);
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        // By Parseval on the unnormalised spectra, Σ_pixels (x ∗ k − x̂)² = Σ_f m_f |X·F_k − X̂|² / (H·W): one fused op
        // on the three spectra instead of the complex product, the inverse transform and the squared difference.
        var otf = BlurKernelOtf.Compute(kernel, h, w);
        return BlurKernelFitFunction.Forward(x.Rfft2(FftNorm.Backward), xHat.Rfft2(FftNorm.Backward), otf, w, 1.0 / n, spectraAreTemporaries: true);
    }

    /// <summary>The circular convolution x ∗ k of each image [N, C, H, W] with its kernel [N, ks, ks].</summary>
    public static Tensor Blur(Tensor x, Tensor kernel)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4)
            throw new ArgumentException($"{Name}: the images must be [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        LossArguments.CheckKernelForImages(Name, kernel, x);
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        var otf = BlurKernelOtf.Compute(kernel, h, w).Reshape(n, 1, h, w / 2 + 1, 2);
        return ComplexMulFunction.Forward(x.Rfft2(FftNorm.Backward), otf).Irfft2(w, FftNorm.Backward);
    }
}
