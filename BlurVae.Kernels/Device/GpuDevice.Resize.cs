using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/resize.cuh (bilinear resizing to any size, align_corners = false; architecture B's 2× upsampling
// is the resize to 2h × 2w): one thread per output element in the forward, one per input element in the backward (a
// gather, so no atomics).
public abstract partial class GpuDevice
{
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
}
