using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/batchnorm.cuh over x viewed as [n, c, spatial]: one block per channel for the training
// forward and both backwards (block size a multiple of 32), one thread per element for the inference forward.
// Optional buffers (gamma, beta, running statistics, dgamma, dbeta) travel as null device pointers when absent.
public abstract partial class GpuDevice
{
    /// <summary>Batch statistics per channel; writes saveMean and saveInvStd = 1/sqrt(var + eps), and updates the running statistics (unbiased variance) when both are given.</summary>
    public void BatchNormForwardTraining(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar,
        int n, int c, int spatial, double eps, double momentum, int blockSize = 256)
    {
        CheckBatchNormTraining(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, n, c, spatial, blockSize);
        if (c == 0) return;
        Launch("batchnorm_forward_training_kernel", new Dim3((uint)c), new Dim3((uint)blockSize),
               y, saveMean, saveInvStd, x, LaunchArg.PointerOrNull(gamma), LaunchArg.PointerOrNull(beta), LaunchArg.PointerOrNull(runningMean), LaunchArg.PointerOrNull(runningVar),
               n, c, spatial, (float)eps, (float)momentum);
    }

    /// <summary>y = LeakyReLU(BatchNorm(x)) with batch statistics, one launch (as <see cref="BatchNormForwardTraining"/>, then the activation).</summary>
    public void BatchNormLeakyReluForward(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar,
        int n, int c, int spatial, double eps, double momentum, double negativeSlope, int blockSize = 256)
    {
        CheckBatchNormTraining(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, n, c, spatial, blockSize);
        CheckNegativeSlope(negativeSlope);
        if (c == 0) return;
        Launch("batchnorm_leaky_relu_forward_kernel", new Dim3((uint)c), new Dim3((uint)blockSize),
               y, saveMean, saveInvStd, x, LaunchArg.PointerOrNull(gamma), LaunchArg.PointerOrNull(beta), LaunchArg.PointerOrNull(runningMean), LaunchArg.PointerOrNull(runningVar),
               n, c, spatial, (float)eps, (float)momentum, (float)negativeSlope);
    }

    /// <summary>Backward of <see cref="BatchNormLeakyReluForward"/> from its output y and saved statistics; dgamma and dbeta are written when given.</summary>
    public void BatchNormLeakyReluBackward(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory y, DeviceMemory x,
        DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, double negativeSlope, int blockSize = 256)
    {
        CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma, n, c, spatial, blockSize);
        CheckBuffer(y, (long)n * c * spatial, nameof(y));
        CheckNegativeSlope(negativeSlope);
        if (c == 0) return;
        Launch("batchnorm_leaky_relu_backward_kernel", new Dim3((uint)c), new Dim3((uint)blockSize),
               dx, LaunchArg.PointerOrNull(dgamma), LaunchArg.PointerOrNull(dbeta), dy, y, x, saveMean, saveInvStd, LaunchArg.PointerOrNull(gamma), n, c, spatial, (float)negativeSlope);
    }

    private void CheckBatchNormTraining(DeviceMemory y, DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory x,
        DeviceMemory? gamma, DeviceMemory? beta, DeviceMemory? runningMean, DeviceMemory? runningVar, int n, int c, int spatial, int blockSize)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(y, total, nameof(y));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(saveMean, c, nameof(saveMean));
        CheckBuffer(saveInvStd, c, nameof(saveInvStd));
        CheckOptional(gamma, c, nameof(gamma));
        CheckOptional(beta, c, nameof(beta));
        CheckOptional(runningMean, c, nameof(runningMean));
        CheckOptional(runningVar, c, nameof(runningVar));
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
        CheckBuffer(y, total, nameof(y));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(runningMean, c, nameof(runningMean));
        CheckBuffer(runningVar, c, nameof(runningVar));
        CheckOptional(gamma, c, nameof(gamma));
        CheckOptional(beta, c, nameof(beta));
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
        Launch("batchnorm_backward_kernel", new Dim3((uint)c), new Dim3((uint)blockSize),
               dx, LaunchArg.PointerOrNull(dgamma), LaunchArg.PointerOrNull(dbeta), dy, x, saveMean, saveInvStd, LaunchArg.PointerOrNull(gamma), n, c, spatial);
    }

    private void CheckBatchNormBackward(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory x,
        DeviceMemory saveMean, DeviceMemory saveInvStd, DeviceMemory? gamma, int n, int c, int spatial, int blockSize)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(dx, total, nameof(dx));
        CheckBuffer(dy, total, nameof(dy));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(saveMean, c, nameof(saveMean));
        CheckBuffer(saveInvStd, c, nameof(saveInvStd));
        CheckOptional(dgamma, c, nameof(dgamma));
        CheckOptional(dbeta, c, nameof(dbeta));
        CheckOptional(gamma, c, nameof(gamma));
    }

    /// <summary>Backward of the inference forward (running statistics are constants); dgamma and dbeta are written when given.</summary>
    public void BatchNormBackwardInference(DeviceMemory dx, DeviceMemory? dgamma, DeviceMemory? dbeta, DeviceMemory dy, DeviceMemory x,
        DeviceMemory runningMean, DeviceMemory runningVar, DeviceMemory? gamma, int n, int c, int spatial, double eps, int blockSize = 256)
    {
        long total = CheckBatchNormShape(n, c, spatial);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(dx, total, nameof(dx));
        CheckBuffer(dy, total, nameof(dy));
        CheckBuffer(x, total, nameof(x));
        CheckBuffer(runningMean, c, nameof(runningMean));
        CheckBuffer(runningVar, c, nameof(runningVar));
        CheckOptional(dgamma, c, nameof(dgamma));
        CheckOptional(dbeta, c, nameof(dbeta));
        CheckOptional(gamma, c, nameof(gamma));
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

    private void CheckOptional(DeviceMemory? buffer, long atLeast, string name)
    {
        if (buffer is not null) CheckBuffer(buffer, atLeast, name);
    }
}
