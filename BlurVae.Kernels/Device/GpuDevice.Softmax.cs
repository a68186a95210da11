using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/softmax.cuh: one block of blockSize (a multiple of 32) threads per row.
public abstract partial class GpuDevice
{
    /// <summary>y[r, :] = softmax(x[r, :]) for x[rows, cols].</summary>
    public void SoftmaxForward(DeviceMemory y, DeviceMemory x, int rows, int cols, int blockSize = 256)
    {
        CheckSoftmax(rows, cols, blockSize);
        CheckBuffer(y, (long)rows * cols, nameof(y));
        CheckBuffer(x, (long)rows * cols, nameof(x));
        if (rows == 0 || cols == 0) return;
        Launch("softmax_forward_kernel", new Dim3((uint)rows), new Dim3((uint)blockSize), y, x, rows, cols);
    }

    /// <summary>dx = y ⊙ (dy − ⟨dy, y⟩) per row, from the forward's output y.</summary>
    public void SoftmaxBackward(DeviceMemory dx, DeviceMemory dy, DeviceMemory y, int rows, int cols, int blockSize = 256)
    {
        CheckSoftmax(rows, cols, blockSize);
        CheckBuffer(dx, (long)rows * cols, nameof(dx));
        CheckBuffer(dy, (long)rows * cols, nameof(dy));
        CheckBuffer(y, (long)rows * cols, nameof(y));
        if (rows == 0 || cols == 0) return;
        Launch("softmax_backward_kernel", new Dim3((uint)rows), new Dim3((uint)blockSize), dx, dy, y, rows, cols);
    }

    private static void CheckSoftmax(int rows, int cols, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        CheckBlockSize(blockSize, multipleOf32: true);
    }
}
