using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/wiener.cuh. Spectra are half spectra [.., H, W/2+1, 2] of interleaved (re, im) floats.
public abstract partial class GpuDevice
{
    /// <summary>
    /// out[N, H, W] = the kernels k[N, ks, ks] zero-padded with their centres rolled to (0, 0) (BlurKernelOtf.Embed);
    /// one thread per output element.
    /// </summary>
    public void BlurKernelToOtfForward(DeviceMemory output, DeviceMemory kernel, int n, int kernelSize, int height, int width, int blockSize = 256)
    {
        int total = ShapeRules.BlurKernelGrid(n, kernelSize, height, width);
        CheckBlockSize(blockSize);
        CheckBuffer(output, total, nameof(output));
        CheckBuffer(kernel, (long)n * kernelSize * kernelSize, nameof(kernel));
        if (total == 0) return;
        Launch("blur_kernel_to_otf_forward_kernel", GridFor(total, blockSize), new Dim3((uint)blockSize), output, kernel, n, kernelSize, height, width);
    }

    /// <summary>The adjoint of <see cref="BlurKernelToOtfForward"/>: dk[N, ks, ks] gathered from dout[N, H, W]; one thread per kernel element.</summary>
    public void BlurKernelToOtfBackward(DeviceMemory dKernel, DeviceMemory dOutput, int n, int kernelSize, int height, int width, int blockSize = 256)
    {
        int total = ShapeRules.BlurKernelGrid(n, kernelSize, height, width);
        CheckBlockSize(blockSize);
        int count = checked(n * kernelSize * kernelSize);
        CheckBuffer(dKernel, count, nameof(dKernel));
        CheckBuffer(dOutput, total, nameof(dOutput));
        if (count == 0) return;
        Launch("blur_kernel_to_otf_backward_kernel", GridFor(count, blockSize), new Dim3((uint)blockSize), dKernel, dOutput, n, kernelSize, height, width);
    }

    /// <summary>
    /// loss[i] = ½ Σ_c,f m_f |W_f|² |E[i, c, f]|², |W|² = |F_k|²/(|F_k|² + C)²: the per-image Wiener term of
    /// WienerBlurLoss (whose value is Σ_i loss[i] / N). fk is [N, H, W/2+1, 2] (unnormalised), e [N, C, H, W/2+1, 2]
    /// (orthonormal F(x) − F(x̂)). One block of <paramref name="blockSize"/> (a multiple of 32) per image.
    /// </summary>
    public void WienerWeightForward(DeviceMemory loss, DeviceMemory fk, DeviceMemory e, int n, int channels, int height, int width, float constant, int blockSize = 256)
    {
        ShapeRules.WienerConstant(constant);
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, n, nameof(loss));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        CheckBuffer(e, 2L * n * channels * bins, nameof(e));
        if (n == 0) return;
        Launch("wiener_weight_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, fk, e, n, channels, height, width, constant);
    }

    /// <summary>
    /// Gradients of <see cref="WienerWeightForward"/>'s loss[i] given dloss[N]: de = dloss·m|W|²E and
    /// dfk = dloss·m·Σ_c|E|²·(C − p)/(p + C)³·F_k (p = |F_k|²); both overwritten. One thread per (image, bin).
    /// </summary>
    public void WienerWeightBackward(DeviceMemory de, DeviceMemory dfk, DeviceMemory dLoss, DeviceMemory fk, DeviceMemory e,
                                     int n, int channels, int height, int width, float constant, int blockSize = 256)
    {
        ShapeRules.WienerConstant(constant);
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize);
        CheckBuffer(de, 2L * n * channels * bins, nameof(de));
        CheckBuffer(dfk, 2L * n * bins, nameof(dfk));
        CheckBuffer(dLoss, n, nameof(dLoss));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        CheckBuffer(e, 2L * n * channels * bins, nameof(e));
        int threads = checked(n * bins);
        if (threads == 0) return;
        Launch("wiener_weight_backward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), de, dfk, dLoss, fk, e, n, channels, height, width, constant);
    }

    /// <summary>
    /// loss[i] = Σ_c,p (x ∗ k − x̂)² of image i (BlurKernelFitLoss of the one-image batch), by Parseval from the
    /// unnormalised (FftNorm.Backward) half spectra: x = rfft2(x), xHat = rfft2(x̂) [N, C, H, W/2+1, 2] and the
    /// kernels' OTF fk [N, H, W/2+1, 2] (BlurKernelOtf.Compute, broadcast over channels). One block of
    /// <paramref name="blockSize"/> (a multiple of 32) per image.
    /// </summary>
    public void BlurKernelFitForward(DeviceMemory loss, DeviceMemory x, DeviceMemory xHat, DeviceMemory fk,
                                 int n, int channels, int height, int width, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, n, nameof(loss));
        CheckBuffer(x, 2L * n * channels * bins, nameof(x));
        CheckBuffer(xHat, 2L * n * channels * bins, nameof(xHat));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        if (n == 0) return;
        Launch("blur_kernel_fit_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, x, xHat, fk, n, channels, height, width);
    }

    /// <summary>
    /// Gradients of <see cref="BlurKernelFitForward"/>'s loss[i] given dLoss[N], with R = X·F_k − X̂ and
    /// g = dLoss·2m_f/(H·W): dXHat = −g·R [N, C, H, W/2+1, 2] and dFk = g·Σ_c R·conj(X) [N, H, W/2+1, 2]. Pulled back
    /// through the rfft2 adjoints they are BlurKernelFitLoss's gradients w.r.t. x̂ and k (x's is not produced: the
    /// trainer passes x detached). One thread per (image, bin).
    /// </summary>
    public void BlurKernelFitBackward(DeviceMemory dXHat, DeviceMemory dFk, DeviceMemory dLoss, DeviceMemory x, DeviceMemory xHat, DeviceMemory fk,
                                  int n, int channels, int height, int width, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize);
        CheckBuffer(dXHat, 2L * n * channels * bins, nameof(dXHat));
        CheckBuffer(dFk, 2L * n * bins, nameof(dFk));
        CheckBuffer(dLoss, n, nameof(dLoss));
        CheckBuffer(x, 2L * n * channels * bins, nameof(x));
        CheckBuffer(xHat, 2L * n * channels * bins, nameof(xHat));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        int threads = checked(n * bins);
        if (threads == 0) return;
        Launch("blur_kernel_fit_backward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), dXHat, dFk, dLoss, x, xHat, fk, n, channels, height, width);
    }

    /// <summary>y[N, C, bins, 2] = x[N, C, bins, 2] · fk[N, bins, 2] (complex, broadcast over channels); one thread per (image, bin).</summary>
    public void ComplexMulForward(DeviceMemory y, DeviceMemory x, DeviceMemory fk, int n, int channels, int bins, int blockSize = 256)
    {
        int threads = CheckComplexMulSizes(n, channels, bins);
        CheckBlockSize(blockSize);
        CheckBuffer(y, 2L * threads * channels, nameof(y));
        CheckBuffer(x, 2L * threads * channels, nameof(x));
        CheckBuffer(fk, 2L * threads, nameof(fk));
        if (threads == 0) return;
        Launch("complex_mul_forward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), y, x, fk, n, channels, bins);
    }

    /// <summary>dx = dy·conj(fk); dfk = Σ_c dy·conj(x); both overwritten. One thread per (image, bin).</summary>
    public void ComplexMulBackward(DeviceMemory dx, DeviceMemory dfk, DeviceMemory dy, DeviceMemory x, DeviceMemory fk,
                                   int n, int channels, int bins, int blockSize = 256)
    {
        int threads = CheckComplexMulSizes(n, channels, bins);
        CheckBlockSize(blockSize);
        CheckBuffer(dx, 2L * threads * channels, nameof(dx));
        CheckBuffer(dfk, 2L * threads, nameof(dfk));
        CheckBuffer(dy, 2L * threads * channels, nameof(dy));
        CheckBuffer(x, 2L * threads * channels, nameof(x));
        CheckBuffer(fk, 2L * threads, nameof(fk));
        if (threads == 0) return;
        Launch("complex_mul_backward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), dx, dfk, dy, x, fk, n, channels, bins);
    }

    private static int CheckComplexMulSizes(int n, int channels, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(bins);
        _ = checked(2 * n * channels * bins);
        return n * bins;
    }
}
