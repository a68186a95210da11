namespace BlurVae.Native;

/// <summary>
/// A non-success status from the CUDA driver, NVRTC, cuFFT, cuBLAS or NCCL, carrying the library's own name and text for it.
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException(string library, int status, string statusName, string statusText, string call, string? detail = null)
        : base($"{library}: {call} failed with {statusName} ({status}): {statusText}" +
               (string.IsNullOrWhiteSpace(detail) ? "" : Environment.NewLine + detail.TrimEnd()))
    {
        Library = library;
        Status = status;
        StatusName = statusName;
        StatusText = statusText;
        Call = call;
        Detail = detail;
    }

    /// <summary>"CUDA driver", "NVRTC", "cuFFT", "cuBLAS" or "NCCL".</summary>
    public string Library { get; }

    public int Status { get; }

    /// <summary>The enum name, e.g. CUDA_ERROR_OUT_OF_MEMORY or CUFFT_INVALID_PLAN.</summary>
    public string StatusName { get; }

    /// <summary>The library's description of the status.</summary>
    public string StatusText { get; }

    /// <summary>The API function whose status this is.</summary>
    public string Call { get; }

    /// <summary>A compiler or JIT log that explains the failure, when there is one.</summary>
    public string? Detail { get; }
}
