namespace BlurVae.Native;

/// <summary>
/// A non-success status from the CUDA driver, NVRTC, cuFFT, cuBLAS or NCCL, carrying the library's own name and text for it.
/// </summary>
/// <param name="library">"CUDA driver", "NVRTC", "cuFFT", "cuBLAS" or "NCCL".</param>
/// <param name="status">The status code.</param>
/// <param name="statusName">The enum name, e.g. CUDA_ERROR_OUT_OF_MEMORY or CUFFT_INVALID_PLAN.</param>
/// <param name="statusText">The library's description of the status.</param>
/// <param name="call">The API function whose status this is.</param>
/// <param name="detail">A compiler or JIT log that explains the failure, when there is one.</param>
public sealed class CudaException(string library, int status, string statusName, string statusText, string call, string? detail = null)
    : Exception($"{library}: {call} failed with {statusName} ({status}): {statusText}" +
                (string.IsNullOrWhiteSpace(detail) ? "" : Environment.NewLine + detail.TrimEnd()))
{
    /// <summary>"CUDA driver", "NVRTC", "cuFFT", "cuBLAS" or "NCCL".</summary>
    public string Library { get; } = library;
    public int Status { get; } = status;
    /// <summary>The enum name, e.g. CUDA_ERROR_OUT_OF_MEMORY or CUFFT_INVALID_PLAN.</summary>
    public string StatusName { get; } = statusName;
    /// <summary>The library's description of the status.</summary>
    public string StatusText { get; } = statusText;
    /// <summary>The API function whose status this is.</summary>
    public string Call { get; } = call;
    /// <summary>A compiler or JIT log that explains the failure, when there is one.</summary>
    public string? Detail { get; } = detail;
}
