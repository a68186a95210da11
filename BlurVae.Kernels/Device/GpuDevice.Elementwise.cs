using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/elementwise.cuh: one thread per element.
public abstract partial class GpuDevice
{
    /// <summary>y = x for x &gt; 0, alpha·x otherwise, over the first n elements.</summary>
    public void LeakyReluForward(DeviceMemory y, DeviceMemory x, int n, float alpha, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckBlockSize(blockSize);
        CheckBuffer(y, n, nameof(y));
        CheckBuffer(x, n, nameof(x));
        if (n == 0) return;
        Launch("leaky_relu_forward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), y, x, n, alpha);
    }

    /// <summary>dx = dy where x &gt; 0, alpha·dy otherwise.</summary>
    public void LeakyReluBackward(DeviceMemory dx, DeviceMemory dy, DeviceMemory x, int n, float alpha, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckBlockSize(blockSize);
        CheckBuffer(dx, n, nameof(dx));
        CheckBuffer(dy, n, nameof(dy));
        CheckBuffer(x, n, nameof(x));
        if (n == 0) return;
        Launch("leaky_relu_backward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), dx, dy, x, n, alpha);
    }
}
