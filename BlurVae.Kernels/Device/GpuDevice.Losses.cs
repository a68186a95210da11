using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/losses.cuh: the baseline reconstruction losses (the blur-kernel fit is in GpuDevice.Wiener.cs). Every forward writes
// loss[N], the loss of each one-image batch, so the C# batch loss is Σ_i loss[i] / N; the backwards take dLoss[N]
// and overwrite their outputs. Spectra are half spectra [.., H, W/2+1, 2] of interleaved (re, im) floats.
public abstract partial class GpuDevice
{
    /// <summary>
    /// The focal frequency loss's detached online weight [N, C, H, W/2+1] from the orthonormal error half spectrum
    /// d = rfft2(x̂ − x) [N, C, H, W/2+1, 2]: m_f·clamp(|d|^α / max over the (image, channel) plane, 0, 1), NaN → 0,
    /// m_f the column multiplicity (FocalFrequencyLoss.FocalWeight, on the device). One block per plane.
    /// </summary>
    public void FocalFrequencyWeight(DeviceMemory weight, DeviceMemory d, int n, int channels, int height, int width, float alpha = 1f, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        if (!(alpha >= 0) || float.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the focal exponent alpha must be finite and >= 0.");
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(weight, (long)n * channels * bins, nameof(weight));
        CheckBuffer(d, 2L * n * channels * bins, nameof(d));
        int planes = n * channels;
        if (planes == 0) return;
        Launch("focal_frequency_weight_kernel", new Dim3((uint)planes), new Dim3((uint)blockSize), weight, d, planes, height, width, alpha);
    }
}
