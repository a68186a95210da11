using TorchSharp;
using static TorchSharp.torch;

namespace BlurVae.LibTorchBench;

/// <summary>
/// The method's terms as reference/pytorch/losses.py defines them, on half spectra (rfft2/irfft2) as BlurVae computes
/// them: a sum over the full spectrum of a real image's |F|² is the half spectrum's sum with the columns 1 … W/2−1
/// counted twice (Hermitian symmetry). Summed over pixels and channels, averaged over the batch.
/// </summary>
public sealed class Losses(long height, long width, ScalarType dtype)
{
    public const double WienerC = 0.025;

    /// <summary>[W/2+1]: 1 for column 0 (and W/2 when W is even), 2 for the columns whose mirror image is left out.</summary>
    private readonly Tensor _columnWeights = ColumnWeights(width, dtype);

    private static Tensor ColumnWeights(long width, ScalarType dtype)
    {
        long cols = width / 2 + 1;
        var w = new float[cols];
        for (long j = 0; j < cols; j++) w[j] = j == 0 || (width % 2 == 0 && j == width / 2) ? 1f : 2f;
        return tensor(w).to_type(dtype).DetachFromDisposeScope();
    }

    /// <summary>F_k on the half spectrum: each kernel [N, ks, ks] zero-padded to H×W, rolled so its centre is at (0, 0).</summary>
    public Tensor KernelOtf(Tensor kernel)
    {
        long ks = kernel.shape[1], r = ks / 2;
        var padded = nn.functional.pad(kernel, [0, width - ks, 0, height - ks]);
        return fft.rfft2(roll(padded, [-r, -r], [1, 2]));
    }

    /// <summary>½ Σ_f |W_f|² |F(x) − F(x̂)|², W = conj(F_k)/(|F_k|² + C), orthonormal F; batch mean.</summary>
    public Tensor Wiener(Tensor x, Tensor xHat, Tensor kernel, double c = WienerC)
    {
        var err = fft.rfft2(x - xHat, norm: FFTNormType.Ortho).abs().square();
        var power = KernelOtf(kernel).abs().square();
        var gain = power / (power + c).square() * _columnWeights;
        return 0.5 * (err * gain.unsqueeze(1)).sum() / x.shape[0];
    }

    /// <summary>‖x ∗ k − x̂‖² (circular convolution, one kernel per image for all channels; no ½), batch mean.</summary>
    public Tensor KernelFit(Tensor x, Tensor xHat, Tensor kernel)
    {
        var blurred = fft.irfft2(fft.rfft2(x) * KernelOtf(kernel).unsqueeze(1), s: [height, width]);
        return (blurred - xHat).square().sum() / x.shape[0];
    }

    /// <summary>−½ Σ (1 + log σ² − μ² − σ²), batch mean.</summary>
    public static Tensor Kl(Tensor mu, Tensor logvar) => -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum() / mu.shape[0];

    /// <summary>½‖x − x̂‖², batch mean (the warm-up / baseline term).</summary>
    public static Tensor L2(Tensor x, Tensor xHat) => 0.5 * (x - xHat).square().sum() / x.shape[0];
}
