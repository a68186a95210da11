using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/batchnorm.cuh over x viewed as [n, c, spatial]: training forward and backward are two-level,
// two launches each over grid (chunks, c) (block size a multiple of 32; chunks by ReductionChunks, so the grid
// reaches two waves), with the per-(channel, chunk) partials in an uninitialised cached buffer (every one written);
// one thread per element for the inference forward, one block per channel for the inference backward. Given a
// convolution's `statistics` ([c, 2], gathered in its epilogue), the training forward is the apply launch alone.
// Optional buffers (gamma, beta, running statistics, dgamma, dbeta) travel as null device pointers when absent.
public abstract partial class GpuDevice
{
    /// <summary>
    /// Batch statistics per channel (computed, or <paramref name="statistics"/>' [c, 2] means and centred sums of squares
    /// when given); writes saveMean and saveInvStd = 1/sqrt(var + eps), and updates the running statistics (unbiased
    /// variance) when both are given.
    /// </summary>
    public void BatchNormForwardTraining(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar,
        int n, int c, int spatial, double eps, double momentum, int blockSize = 256, DeviceMemory? statistics = null)
    {
        CheckBatchNormTraining(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, n, c, spatial, blockSize, statistics);
        if (c == 0) return;
        BatchNormForwardLaunches("batchnorm_forward_training_kernel", y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar,
                                 n, c, spatial, eps, momentum, null, blockSize, statistics);
    }

    /// <summary>y = LeakyReLU(BatchNorm(x)) with batch statistics, one launch (as <see cref="BatchNormForwardTraining"/>, then the activation).</summary>
    public void BatchNormLeakyReluForward(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar,
        int n, int c, int spatial, double eps, double momentum, double negativeSlope, int blockSize = 256, DeviceMemory? statistics = null)
    {
        CheckBatchNormTraining(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, n, c, spatial, blockSize, statistics);
        CheckNegativeSlope(negativeSlope);
        if (c == 0) return;
        BatchNormForwardLaunches("batchnorm_leaky_relu_forward_kernel", y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar,
                                 n, c, spatial, eps, momentum, negativeSlope, blockSize, statistics);
    }

    // The statistics launch, then `apply` (the plain or the fused forward; negativeSlope given for the fused one). With
    // a convolution's statistics, `apply` alone, reading them as one partial of n·spatial values per channel.
    private void BatchNormForwardLaunches(string apply, DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar,
        int n, int c, int spatial, double eps, double momentum, double? negativeSlope, int blockSize, DeviceMemory? statistics)
    {
        var (grid, chunk) = BatchNormGrid(n, c, spatial, blockSize);
        using var partial = statistics is null ? Allocate(checked(2 * (int)grid.X * c), zeroed: false) : null;
        if (partial is not null) Launch("batchnorm_forward_statistics_kernel", grid, new Dim3((uint)blockSize), partial, x, n, c, spatial, chunk);
        int partialChunk = partial is not null ? chunk : Math.Max(1, n * spatial);
        LaunchArg[] args = [y, saveMean, saveInvStd, x, (partial ?? statistics)!, LaunchArg.PointerOrNull(gamma), LaunchArg.PointerOrNull(beta),
                            LaunchArg.PointerOrNull(runningMean), LaunchArg.PointerOrNull(runningVar), n, c, spatial, chunk, partialChunk, (float)eps, (float)momentum];
        Launch(apply, grid, new Dim3((uint)blockSize), negativeSlope is double slope ? [.. args, (float)slope] : args);
    }

    // The statistics launch with y (fused: the LeakyReLU gradient from the output) or without, then `apply`.
    private void BatchNormBackwardLaunches(string apply, DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory? y,
        DeviceMemory x, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, double negativeSlope, int blockSize)
    {
        var (grid, chunk) = BatchNormGrid(n, c, spatial, blockSize);
        using var partial = Allocate(checked(2 * (int)grid.X * c), zeroed: false);
        Launch("batchnorm_backward_statistics_kernel", grid, new Dim3((uint)blockSize),
               partial, dy, LaunchArg.PointerOrNull(y), x, saveMean, saveInvStd, n, c, spatial, chunk, (float)negativeSlope);
        LaunchArg[] head = [dx, LaunchArg.PointerOrNull(dgamma), LaunchArg.PointerOrNull(dbeta), dy];
        LaunchArg[] tail = [x, partial, saveMean, saveInvStd, LaunchArg.PointerOrNull(gamma), n, c, spatial, chunk];
        Launch(apply, grid, new Dim3((uint)blockSize), y is null ? [.. head, .. tail] : [.. head, y, .. tail, (float)negativeSlope]);
    }

    // Grid (chunks, c) of the two-level training kernels and the chunk length (ReductionChunks over M = n·spatial).
    private static (Dim3 Grid, int Chunk) BatchNormGrid(int n, int c, int spatial, int blockSize)
    {
        var (chunks, chunk) = ReductionChunks(c, n * spatial, blockSize);
        return (new Dim3((uint)chunks, (uint)c), chunk);
    }

    /// <summary>Backward of <see cref="BatchNormLeakyReluForward"/> from its output y and saved statistics; dgamma and dbeta are written when given.</summary>
    public void BatchNormLeakyReluBackward(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory y, DeviceMemory x,
        DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, double negativeSlope, int blockSize = 256)
    {
        CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma, n, c, spatial, blockSize);
        CheckBuffer(y, (long)n * c * spatial, nameof(y));
        CheckNegativeSlope(negativeSlope);
        if (c == 0) return;
        BatchNormBackwardLaunches("batchnorm_leaky_relu_backward_kernel", dx, dgamma, dbeta, dy, y, x, saveMean, saveInvStd, gamma,
                                  n, c, spatial, negativeSlope, blockSize);
    }

    private void CheckBatchNormTraining(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar, int n, int c, int spatial, int blockSize,
        DeviceMemory? statistics)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffers(total, (y, nameof(y)), (x, nameof(x)));
        CheckBuffers(c, (saveMean, nameof(saveMean)), (saveInvStd, nameof(saveInvStd)));
        CheckOptional(2L * c, (statistics, nameof(statistics)));
        CheckOptional(c, (gamma, nameof(gamma)), (beta, nameof(beta)), (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException("runningMean and runningVar must be given together.", runningMean is null ? nameof(runningMean) : nameof(runningVar));
        if (runningVar is not null && total / Math.Max(1, c) < 2)
            throw new ArgumentException($"Batch normalisation in training needs more than one value per channel (got n={n}, spatial={spatial}).", nameof(x));
    }

    /// <summary>The fused backward reads the branch from the output (y &gt; 0 exactly where z &gt; 0), which needs a slope ≥ 0.</summary>
    private static void CheckNegativeSlope(double negativeSlope)
    {
        if (!(negativeSlope >= 0)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "the fused LeakyReLU needs a negative slope ≥ 0");
    }

    /// <summary>y = (x − runningMean)/sqrt(runningVar + eps)·γ + β, elementwise.</summary>
    public void BatchNormForwardInference(DeviceMemory y, DeviceMemory x, DeviceMemory runningMean, DeviceMemory runningVar,
        DeviceMemory? gamma, DeviceMemory? beta, int n, int c, int spatial, double eps, int blockSize = 256)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize);
        CheckBuffers(total, (y, nameof(y)), (x, nameof(x)));
        CheckBuffers(c, (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        CheckOptional(c, (gamma, nameof(gamma)), (beta, nameof(beta)));
        if (total == 0) return;
        Launch("batchnorm_forward_inference_kernel", GridFor((int)total, blockSize), new Dim3((uint)blockSize),
               y, x, runningMean, runningVar, LaunchArg.PointerOrNull(gamma), LaunchArg.PointerOrNull(beta), n, c, spatial, (float)eps);
    }

    /// <summary>Backward of the training forward from its saved statistics; dgamma and dbeta are written when given.</summary>
    public void BatchNormBackward(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory x,
        DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, int blockSize = 256)
    {
        CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma, n, c, spatial, blockSize);
        if (c == 0) return;
        BatchNormBackwardLaunches("batchnorm_backward_kernel", dx, dgamma, dbeta, dy, null, x, saveMean, saveInvStd, gamma,
                                  n, c, spatial, 0, blockSize);
    }

    private void CheckBatchNormBackward(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory x,
        DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, int blockSize)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffers(total, (dx, nameof(dx)), (dy, nameof(dy)), (x, nameof(x)));
        CheckBuffers(c, (saveMean, nameof(saveMean)), (saveInvStd, nameof(saveInvStd)));
        CheckOptional(c, (dgamma, nameof(dgamma)), (dbeta, nameof(dbeta)), (gamma, nameof(gamma)));
    }

    /// <summary>Backward of the inference forward (running statistics are constants); dgamma and dbeta are written when given.</summary>
    public void BatchNormBackwardInference(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory x,
        DeviceMemory runningMean, DeviceMemory runningVar, DeviceMemory? gamma, int n, int c, int spatial, double eps, int blockSize = 256)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffers(total, (dx, nameof(dx)), (dy, nameof(dy)), (x, nameof(x)));
        CheckBuffers(c, (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        CheckOptional(c, (dgamma, nameof(dgamma)), (dbeta, nameof(dbeta)), (gamma, nameof(gamma)));
        if (c == 0) return;
        Launch("batchnorm_backward_inference_kernel", new Dim3((uint)c), new Dim3((uint)blockSize),
               dx, LaunchArg.PointerOrNull(dgamma), LaunchArg.PointerOrNull(dbeta), dy, x, runningMean, runningVar, LaunchArg.PointerOrNull(gamma), n, c, spatial, (float)eps);
    }

    /// <summary>n·c·spatial, checked to be non-negative and to fit the kernels' int element indices.</summary>
    private static long CheckBatchNormShape(int n, int c, int spatial)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        ArgumentOutOfRangeException.ThrowIfNegative(spatial);
        long total = (long)n * c * spatial;
        if (total > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(n), $"n·c·spatial = {total} exceeds {int.MaxValue}.");
        return total;
    }

    /// <summary>The optional operands (gamma, beta, running statistics, their gradients): checked when given.</summary>
    private void CheckOptional(long atLeast, params ReadOnlySpan<(DeviceMemory? Buffer, string Name)> buffers)
    {
        foreach (var (buffer, name) in buffers)
            if (buffer is not null) CheckBuffer(buffer, atLeast, name);
    }
}
