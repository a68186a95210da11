using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// The per-function limit a launch must respect on a real GPU beyond CUDA's fixed ones (which the launchers and the
/// emulation check): a kernel compiled to many registers per thread cannot run 1024 threads per block, and the driver
/// would answer CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES without saying which kernel or why.
/// </summary>
public static class LaunchLimits
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the kernel when the block exceeds what the function allows.</summary>
    public static void Check(string kernel, Dim3 block, int maxThreadsPerBlock, int registersPerThread, string device)
    {
        long threads = (long)block.X * block.Y * block.Z;
        if (threads > maxThreadsPerBlock)
            throw new InvalidOperationException(
                $"kernel '{kernel}' cannot run blocks of {threads} threads ({block.X}×{block.Y}×{block.Z}) on {device}: compiled to {registersPerThread} registers " +
                $"per thread, it runs at most {maxThreadsPerBlock} threads per block (cuFuncGetAttribute). Launch it with smaller blocks, or bound its registers with __launch_bounds__.");
    }
}
