using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/linear.cuh: a Linear layer's bias and activation around its GEMMs.
public abstract partial class GpuDevice
{
    /// <summary>y = act(y + bias) in place over y[rows, cols], bias[cols] or null, act null (identity), Relu, LeakyRelu
    /// (alpha ≥ 0) or Relu6 (as CpuBackend.BiasActivationForward); one thread per element.</summary>
    public void BiasActivationForward(DeviceMemory y, DeviceMemory? bias, int rows, int cols, UnaryOp? activation, double alpha, int blockSize = 256)
    {
        int op = LinearActivationCode(activation, alpha);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        int n = checked(rows * cols);
        if (!CheckElementwise(n, blockSize, (y, nameof(y)))) return;
        if (bias is not null) CheckBuffer(bias, cols, nameof(bias));
        if (bias is null && activation is null) return;
        var columns = FastDivider.For(cols);
        Launch("bias_activation_forward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize),
               y, LaunchArg.PointerOrNull(bias), n, cols, (int)columns.Magic, (int)columns.Shift, op, (float)alpha);
    }

    /// <summary>
    /// dPre = dy · act'(pre), read from the forward's output y, over [rows, cols], and dBias (null: none) = Σ over rows of
    /// dPre (as CpuBackend.BiasActivationBackward). Blocks of 32 columns × blockSize / 32 row lanes, the rows cut into
    /// chunks until the grid has about <see cref="ReductionTargetBlocks"/> blocks; the last block of a column adds
    /// the chunks in order, in the same launch (kernels/linear.cuh): deterministic, no float atomics.
    /// </summary>
    public void BiasActivationBackward(DeviceMemory dPre, DeviceMemory? dBias, DeviceMemory dy, DeviceMemory y, int rows, int cols,
                                       UnaryOp? activation, double alpha, int blockSize = 256)
    {
        int op = LinearActivationCode(activation, alpha);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        CheckBlockSize(blockSize, multipleOf32: true);
        if ((blockSize & (blockSize - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "the reduction's block size must be a power of two");
        long n = (long)rows * cols;
        CheckBuffers(n, (dPre, nameof(dPre)), (dy, nameof(dy)), (y, nameof(y)));
        if (dBias is not null) CheckBuffer(dBias, cols, nameof(dBias));
        if (n == 0)
        {
            if (dBias is not null) Fill(dBias, 0f);
            return;
        }
        const int bx = 32;
        int by = blockSize / bx, columnBlocks = (cols + bx - 1) / bx;
        var (chunks, chunk) = ReductionChunks(columnBlocks, rows, by);
        bool twoLevel = dBias is not null && chunks > 1;
        using var partial = twoLevel ? Allocate(checked(chunks * cols), zeroed: false) : null;
        Launch("bias_activation_backward_kernel", new Dim3((uint)columnBlocks, (uint)chunks), new Dim3(bx, (uint)by),
               dPre, LaunchArg.PointerOrNull(dBias), LaunchArg.PointerOrNull(partial), twoLevel ? TicketCounters(columnBlocks) : LaunchArg.NullPointer,
               dy, y, rows, cols, chunk, op, (float)alpha);
    }

    /// <summary>The kernel's activation code: LINEAR_IDENTITY (−1) or the UNARY_* code.</summary>
    private static int LinearActivationCode(UnaryOp? activation, double alpha)
    {
        ShapeRules.LinearActivation(activation, alpha);
        return activation is { } op ? (int)op : -1;
    }
}
