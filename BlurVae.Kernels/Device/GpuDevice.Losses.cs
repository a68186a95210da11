using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/losses.cuh: the baseline reconstruction losses (the blur-kernel fit is in GpuDevice.Wiener.cs). Every forward writes
// loss[N], the loss of each one-image batch, so the C# batch loss is Σ_i loss[i] / N; the backwards take dLoss[N]
// and overwrite their outputs. Spectra are half spectra [.., H, W/2+1, 2] of interleaved (re, im) floats.
public abstract partial class GpuDevice
{
    /// <summary>loss[i] = Σ_j |x − x̂| over the <paramref name="size"/> = C·H·W elements of image i (L1Loss); one block per image.</summary>
    public void L1Forward(DeviceMemory loss, DeviceMemory x, DeviceMemory xHat, int n, int size, int blockSize = 256)
    {
        CheckImageLossSizes(n, size);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, n, nameof(loss));
        CheckBuffer(x, (long)n * size, nameof(x));
        CheckBuffer(xHat, (long)n * size, nameof(xHat));
        if (n == 0) return;
        Launch("l1_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, x, xHat, n, size);
    }

    /// <summary>dXHat = −dLoss[i]·sign(x − x̂) with sign(0) = 0 (the gradient w.r.t. x is its negative); one thread per element.</summary>
    public void L1Backward(DeviceMemory dXHat, DeviceMemory dLoss, DeviceMemory x, DeviceMemory xHat, int n, int size, int blockSize = 256)
    {
        int total = CheckImageLossSizes(n, size);
        CheckBlockSize(blockSize);
        CheckBuffer(dXHat, total, nameof(dXHat));
        CheckBuffer(dLoss, n, nameof(dLoss));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(xHat, total, nameof(xHat));
        if (total == 0) return;
        Launch("l1_backward_kernel", GridFor(total, blockSize), new Dim3((uint)blockSize), dXHat, dLoss, x, xHat, n, size);
    }

    /// <summary>
    /// loss[i] = −Σ_j [t log p + (1 − t) log(1 − p)], t = (x + 1)/2, p = clamp((x̂ + 1)/2, ε, 1 − ε) over the
    /// <paramref name="size"/> elements of image i (BceLoss, ε = BceLoss.Epsilon = 1e-7); one block per image.
    /// </summary>
    public void BceForward(DeviceMemory loss, DeviceMemory x, DeviceMemory xHat, int n, int size, float epsilon = 1e-7f, int blockSize = 256)
    {
        CheckImageLossSizes(n, size);
        CheckBceEpsilon(epsilon);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, n, nameof(loss));
        CheckBuffer(x, (long)n * size, nameof(x));
        CheckBuffer(xHat, (long)n * size, nameof(xHat));
        if (n == 0) return;
        Launch("bce_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, x, xHat, n, size, epsilon);
    }

    /// <summary>dXHat = −dLoss[i]·½·(t/p − (1 − t)/(1 − p)) strictly inside the clamp, 0 where it is active; one thread per element.</summary>
    public void BceBackward(DeviceMemory dXHat, DeviceMemory dLoss, DeviceMemory x, DeviceMemory xHat, int n, int size, float epsilon = 1e-7f, int blockSize = 256)
    {
        int total = CheckImageLossSizes(n, size);
        CheckBceEpsilon(epsilon);
        CheckBlockSize(blockSize);
        CheckBuffer(dXHat, total, nameof(dXHat));
        CheckBuffer(dLoss, n, nameof(dLoss));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(xHat, total, nameof(xHat));
        if (total == 0) return;
        Launch("bce_backward_kernel", GridFor(total, blockSize), new Dim3((uint)blockSize), dXHat, dLoss, x, xHat, n, size, epsilon);
    }

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

    /// <summary>
    /// loss[i] = Σ_c,f weight·|d|² / (C·H·W) for image i, so the reference's mean over N·C·H·W is Σ_i loss[i] / N;
    /// weight [N, C, H, W/2+1] is <see cref="FocalFrequencyWeight"/>'s (or a folded predefined matrix). One block per image.
    /// </summary>
    public void FocalFrequencyForward(DeviceMemory loss, DeviceMemory weight, DeviceMemory d, int n, int channels, int height, int width, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, n, nameof(loss));
        CheckBuffer(weight, (long)n * channels * bins, nameof(weight));
        CheckBuffer(d, 2L * n * channels * bins, nameof(d));
        if (n == 0) return;
        Launch("focal_frequency_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, weight, d, n, channels, height, width);
    }

    /// <summary>
    /// dD = dLoss[i]·2·weight·d/(C·H·W) (the weight detached); the orthonormal rfft2 adjoint of dD is the gradient
    /// w.r.t. x̂, its negative the one w.r.t. x. One thread per complex bin.
    /// </summary>
    public void FocalFrequencyBackward(DeviceMemory dD, DeviceMemory dLoss, DeviceMemory weight, DeviceMemory d,
                                       int n, int channels, int height, int width, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize);
        int count = checked(n * channels * bins);
        CheckBuffer(dD, 2L * count, nameof(dD));
        CheckBuffer(dLoss, n, nameof(dLoss));
        CheckBuffer(weight, count, nameof(weight));
        CheckBuffer(d, 2L * count, nameof(d));
        if (count == 0) return;
        Launch("focal_frequency_backward_kernel", GridFor(count, blockSize), new Dim3((uint)blockSize), dD, dLoss, weight, d, n, channels, height, width);
    }

    // n images of `size` elements each; the total must fit an int.
    private static int CheckImageLossSizes(int n, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return checked(n * size);
    }

    private static void CheckBceEpsilon(float epsilon)
    {
        if (!(epsilon > 0 && epsilon < 0.5f))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "the BCE clamp bound epsilon must lie in (0, 0.5).");
    }
}
