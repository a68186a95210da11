using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/upsample.cuh (bilinear resizing to any size, align_corners = false): one thread per output element in the
// forward, one per input element in the backward (a gather, so no atomics). The 2× upsampling is the resize to 2h × 2w
// (the same taps), so it launches the resize kernels.
public abstract partial class GpuDevice
{
    /// <summary>y[planes, 2h, 2w] = bilinear 2× upsampling of x[planes, h, w].</summary>
    public void UpsampleBilinear2xForward(DeviceMemory y, DeviceMemory x, int planes, int h, int w, int blockSize = 256)
    {
        long inputs = CheckUpsample(planes, h, w, blockSize);
        CheckBuffer(y, 4 * inputs, nameof(y));
        CheckBuffer(x, inputs, nameof(x));
        if (inputs == 0) return;
        ResizeBilinearForward(y, x, planes, h, w, 2 * h, 2 * w, blockSize);
    }

    /// <summary>dx[planes, h, w] from dy[planes, 2h, 2w]: the adjoint of the forward.</summary>
    public void UpsampleBilinear2xBackward(DeviceMemory dx, DeviceMemory dy, int planes, int h, int w, int blockSize = 256)
    {
        long inputs = CheckUpsample(planes, h, w, blockSize);
        CheckBuffer(dx, inputs, nameof(dx));
        CheckBuffer(dy, 4 * inputs, nameof(dy));
        if (inputs == 0) return;
        ResizeBilinearBackward(dx, dy, planes, h, w, 2 * h, 2 * w, blockSize);
    }

    /// <summary>y[planes, outH, outW] = the bilinear resize (align_corners = false) of x[planes, inH, inW].</summary>
    public void ResizeBilinearForward(DeviceMemory y, DeviceMemory x, int planes, int inH, int inW, int outH, int outW, int blockSize = 256)
    {
        var (inputs, outputs) = CheckResize(planes, inH, inW, outH, outW, blockSize);
        CheckBuffer(y, outputs, nameof(y));
        CheckBuffer(x, inputs, nameof(x));
        if (outputs == 0) return;
        Launch("resize_bilinear_forward_kernel", GridFor((int)outputs, blockSize), new Dim3((uint)blockSize), y, x, planes, inH, inW, outH, outW);
    }

    /// <summary>dx[planes, inH, inW] from dy[planes, outH, outW]: the adjoint of the resize.</summary>
    public void ResizeBilinearBackward(DeviceMemory dx, DeviceMemory dy, int planes, int inH, int inW, int outH, int outW, int blockSize = 256)
    {
        var (inputs, outputs) = CheckResize(planes, inH, inW, outH, outW, blockSize);
        CheckBuffer(dx, inputs, nameof(dx));
        CheckBuffer(dy, outputs, nameof(dy));
        if (inputs == 0) return;
        Launch("resize_bilinear_backward_kernel", GridFor((int)inputs, blockSize), new Dim3((uint)blockSize), dx, dy, planes, inH, inW, outH, outW);
    }

    private static (long Inputs, long Outputs) CheckResize(int planes, int inH, int inW, int outH, int outW, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(planes);
        if (inH < 1 || inW < 1 || outH < 1 || outW < 1)
            throw new ArgumentOutOfRangeException(nameof(inH), $"resize sizes must be >= 1 (got {inH}x{inW} → {outH}x{outW})");
        CheckBlockSize(blockSize);
        long inputs = (long)planes * inH * inW, outputs = (long)planes * outH * outW;
        if (Math.Max(inputs, outputs) > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(planes), $"resize of more than {int.MaxValue} elements");
        return (inputs, outputs);
    }

    /// <summary>planes·h·w, checked so that the output count 4·planes·h·w fits the launch grid's int arithmetic.</summary>
    private static long CheckUpsample(int planes, int h, int w, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(planes);
        ArgumentOutOfRangeException.ThrowIfNegative(h);
        ArgumentOutOfRangeException.ThrowIfNegative(w);
        CheckBlockSize(blockSize);
        long inputs = (long)planes * h * w;
        if (4 * inputs > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(planes), $"4·planes·h·w = {4 * inputs} exceeds {int.MaxValue}.");
        return inputs;
    }
}
