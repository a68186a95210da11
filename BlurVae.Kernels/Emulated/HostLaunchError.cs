namespace BlurVae.Kernels.Emulated;

/// <summary>The return codes of blurvae_launch (kernels/host/cuda_host.h, enum blurvae_host::Error).</summary>
public enum HostLaunchError
{
    None = 0,
    UnknownKernel = 1,
    /// <summary>Grid or block dimensions outside CUDA's limits, or dynamic shared memory requested.</summary>
    InvalidConfiguration = 2,
    /// <summary>Argument count or an argument's size differs from the kernel's parameter list.</summary>
    BadArguments = 3,
    /// <summary>Threads of one block reached different numbers of __syncthreads.</summary>
    BarrierMismatch = 4,
    /// <summary>Some lanes of a warp reached a shuffle that others never reached.</summary>
    ShuffleMismatch = 5,
    /// <summary>A kernel registered with BLURVAE_HOST_KERNEL_NO_SYNC called __syncthreads or a shuffle.</summary>
    SyncInPlainKernel = 6,
    /// <summary>A lane called a shuffle or __syncwarp whose mask does not include it (undefined on a GPU).</summary>
    ShuffleMaskExcludesLane = 7,
}

/// <summary>A launch on the emulated device failed; <see cref="Error"/> says how.</summary>
public sealed class EmulatedLaunchException(string kernel, HostLaunchError error, string detail)
    : Exception($"Emulated launch of '{kernel}' failed with {error}: {detail}")
{
    public string Kernel { get; } = kernel;
    public HostLaunchError Error { get; } = error;
}
