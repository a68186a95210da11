
namespace BlurVae.Training.Losses;

/// <summary>
/// The optical transfer function of a batch of blur kernels on an H×W grid: the spectrum F_k that the
/// Wiener loss, the log-determinant and the kernel-fit loss all share, so the three agree on one
/// block-circulant model K of the blur.
/// <para>
/// A kernel k[N, ks, ks] (ks odd, centre r = ks/2) is zero-padded to H×W and rolled so its centre sits at (0, 0):
/// k[i, j] lands on ((i − r) mod H, (j − r) mod W). Then K·vec(x) = vec(x ∗ k) is the circular convolution
/// (x ∗ k)[p, q] = Σ_ij k[i, j]·x[(p − i + r) mod H, (q − j + r) mod W], which does not shift the image, a
/// symmetric kernel has a real spectrum, and a delta kernel has F_k ≡ 1.
/// </para>
/// <para>
/// F_k is the unnormalised DFT (FftNorm.Backward): its values are exactly the eigenvalues of K, and
/// F_ortho(x ∗ k) = F_ortho(x)·F_k for any scaling of the image transform. Everything here is built from
/// recorded ops, so gradients reach the kernel (and through k = G_γ(z) the kernel generator and the encoder).
/// </para>
/// </summary>
public static class BlurKernelOtf
{
    /// <summary>The kernels zero-padded to [N, height, width] with their centres rolled to (0, 0).</summary>
    /// <exception cref="ArgumentException">kernel is not [N, ks, ks] with ks odd, or the grid is smaller than the kernel.</exception>
    public static Tensor Embed(Tensor kernel, int height, int width)
    {
        CheckKernel(kernel, height, width);
        // One fused backend op (and its adjoint gather) rather than the narrows and concats of two rolls.
        return BlurKernelToOtfFunction.Forward(kernel, height, width);
    }

    /// <summary>F_k = rfft2(Embed(kernel)), unnormalised: [N, height, width/2+1, 2].</summary>
    public static Tensor Compute(Tensor kernel, int height, int width) =>
        Embed(kernel, height, width).Rfft2(FftNorm.Backward);

    private static int CheckKernel(Tensor kernel, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Rank != 3 || kernel.Shape[1] != kernel.Shape[2])
            throw new ArgumentException($"BlurKernelOtf: the kernel must be a square batch [N, ks, ks], got {Tensor.ShapeString(kernel.Shape)}.", nameof(kernel));
        int ks = kernel.Shape[1];
        ShapeRules.BlurKernelGrid(kernel.Shape[0], ks, height, width);
        return ks;
    }
}
