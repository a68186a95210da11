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
    /// perImage[i] = ½ Σ_c,f m_f |W_f|² |E[i, c, f]|², |W|² = |F_k|²/(|F_k|² + C)², the Wiener term of each image, and
    /// loss[0] = scale·Σ_i perImage[i] (WienerBlurLoss's batch mean for scale = 1/N). fk is [N, H, W/2+1, 2]
    /// (unnormalised), e [N, C, H, W/2+1, 2] the error spectrum (WienerBlurLoss passes it unnormalised, with the
    /// 1/(H·W) in the scale). One block of <paramref name="blockSize"/> (a multiple of 32) per image; the last block to
    /// finish sums the images (a ticket, <see cref="TicketCounters"/>).
    /// </summary>
    public void WienerWeightForward(DeviceMemory loss, DeviceMemory perImage, DeviceMemory fk, DeviceMemory e, int n, int channels, int height, int width,
                                    float constant, float scale, int blockSize = 256)
    {
        ShapeRules.WienerConstant(constant);
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBatchLoss(loss, perImage, n, blockSize);
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        CheckBuffer(e, 2L * n * channels * bins, nameof(e));
        Launch("wiener_weight_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, perImage, TicketCounters(1), fk, e, n, channels, height, width, constant, scale);
    }

    /// <summary>
    /// The sizes of a batch loss kernel (finish_batch_loss in kernels/common.cuh): loss [1], one value per item
    /// (n ≥ 1: a batch mean of nothing has no launch to finish it), one block of a multiple of 32 threads per item.
    /// </summary>
    private void CheckBatchLoss(DeviceMemory loss, DeviceMemory perItem, int n, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(loss, 1, nameof(loss));
        CheckBuffer(perItem, n, nameof(perItem));
    }

    /// <summary>
    /// Gradients of <see cref="WienerWeightForward"/>'s loss[0] given dLoss[0], with g = dLoss[0]·scale: de = g·m|W|²E
    /// and dfk = g·m·Σ_c|E|²·(C − p)/(p + C)³·F_k (p = |F_k|²); both overwritten. One thread per (image, bin).
    /// </summary>
    public void WienerWeightBackward(DeviceMemory de, DeviceMemory dfk, DeviceMemory dLoss, DeviceMemory fk, DeviceMemory e,
                                     int n, int channels, int height, int width, float constant, float scale, int blockSize = 256)
    {
        ShapeRules.WienerConstant(constant);
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize);
        CheckBuffer(de, 2L * n * channels * bins, nameof(de));
        CheckBuffer(dfk, 2L * n * bins, nameof(dfk));
        CheckBuffer(dLoss, 1, nameof(dLoss));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        CheckBuffer(e, 2L * n * channels * bins, nameof(e));
        int threads = checked(n * bins);
        if (threads == 0) return;
        Launch("wiener_weight_backward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), de, dfk, dLoss, fk, e, n, channels, height, width, constant, scale);
    }

    /// <summary>
    /// perImage[i] = Σ_c,p (x ∗ k − x̂)² of image i and loss[0] = scale·Σ_i perImage[i] (BlurKernelFitLoss's batch mean
    /// for scale = 1/N), by Parseval from the unnormalised (FftNorm.Backward) half spectra: x = rfft2(x), xHat = rfft2(x̂)
    /// [N, C, H, W/2+1, 2] and the kernels' OTF fk [N, H, W/2+1, 2] (BlurKernelOtf.Compute, broadcast over channels).
    /// One block of <paramref name="blockSize"/> (a multiple of 32) per image; the last block to finish sums the images.
    /// </summary>
    public void BlurKernelFitForward(DeviceMemory loss, DeviceMemory perImage, DeviceMemory x, DeviceMemory xHat, DeviceMemory fk,
                                 int n, int channels, int height, int width, float scale, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBatchLoss(loss, perImage, n, blockSize);
        CheckBuffer(x, 2L * n * channels * bins, nameof(x));
        CheckBuffer(xHat, 2L * n * channels * bins, nameof(xHat));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        Launch("blur_kernel_fit_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), loss, perImage, TicketCounters(1), x, xHat, fk, n, channels, height, width, scale);
    }

    /// <summary>
    /// Gradients of <see cref="BlurKernelFitForward"/>'s loss[0] given dLoss[0], with R = X·F_k − X̂ and
    /// g = dLoss[0]·scale·2m_f/(H·W): dXHat = −g·R [N, C, H, W/2+1, 2] and dFk = g·Σ_c R·conj(X) [N, H, W/2+1, 2]. Pulled back
    /// through the rfft2 adjoints they are BlurKernelFitLoss's gradients w.r.t. x̂ and k (x's is not produced: the
    /// trainer passes x detached). One thread per (image, bin).
    /// </summary>
    public void BlurKernelFitBackward(DeviceMemory dXHat, DeviceMemory dFk, DeviceMemory dLoss, DeviceMemory x, DeviceMemory xHat, DeviceMemory fk,
                                  int n, int channels, int height, int width, float scale, int blockSize = 256)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBlockSize(blockSize);
        CheckBuffer(dXHat, 2L * n * channels * bins, nameof(dXHat));
        CheckBuffer(dFk, 2L * n * bins, nameof(dFk));
        CheckBuffer(dLoss, 1, nameof(dLoss));
        CheckBuffer(x, 2L * n * channels * bins, nameof(x));
        CheckBuffer(xHat, 2L * n * channels * bins, nameof(xHat));
        CheckBuffer(fk, 2L * n * bins, nameof(fk));
        int threads = checked(n * bins);
        if (threads == 0) return;
        Launch("blur_kernel_fit_backward_kernel", GridFor(threads, blockSize), new Dim3((uint)blockSize), dXHat, dFk, dLoss, x, xHat, fk, n, channels, height, width, scale);
    }
}
