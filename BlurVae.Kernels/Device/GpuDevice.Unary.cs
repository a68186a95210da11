using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of the generic unary kernels of kernels/elementwise.cuh: one thread per element.
public abstract partial class GpuDevice
{
    /// <summary>y = op(x) over the first n elements, as CpuBackend.UnaryForward (alpha rounded to float as there).</summary>
    public void UnaryForward(UnaryOp op, DeviceMemory y, DeviceMemory x, int n, double alpha, int blockSize = 256)
    {
        CheckUnaryOp(op);
        if (!CheckElementwise(n, blockSize, (y, nameof(y)), (x, nameof(x)))) return;
        Launch("unary_forward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), y, x, n, (int)op, (float)alpha);
    }

    /// <summary>dx = dy · op'(x); Tanh, Sigmoid and Exp read the forward's output y, the others x (as CpuBackend.UnaryBackward).</summary>
    public void UnaryBackward(UnaryOp op, DeviceMemory dx, DeviceMemory dy, DeviceMemory x, DeviceMemory y, int n, double alpha, int blockSize = 256)
    {
        CheckUnaryOp(op);
        if (!CheckElementwise(n, blockSize, (dx, nameof(dx)), (dy, nameof(dy)), (x, nameof(x)), (y, nameof(y)))) return;
        Launch("unary_backward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), dx, dy, x, y, n, (int)op, (float)alpha);
    }

    // The kernel switches on (int)op against the UNARY_* codes of elementwise.cuh (0 = Scale … 11 = Pow).
    private static void CheckUnaryOp(UnaryOp op)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op");
    }
}
