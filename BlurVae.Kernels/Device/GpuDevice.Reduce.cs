using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/reduce.cuh.
public abstract partial class GpuDevice
{
    /// <summary>y[r] = Σ_c x[r, c] for x[rows, cols]; one block of <paramref name="blockSize"/> (a multiple of 32) per row.</summary>
    public void SumRowsForward(DeviceMemory y, DeviceMemory x, int rows, int cols, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(y, rows, nameof(y));
        CheckBuffer(x, (long)rows * cols, nameof(x));
        if (rows == 0) return;
        Launch("sum_rows_forward_kernel", new Dim3((uint)rows), new Dim3((uint)blockSize), y, x, rows, cols);
    }
}
