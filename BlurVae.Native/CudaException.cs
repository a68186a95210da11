namespace BlurVae.Native;

/// <summary>
/// A non-success status from the CUDA driver, NVRTC, cuFFT or cuBLAS, carrying the library's own name and text for it.
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException(string library, int status, string statusName, string statusText, string call)
        : base($"{library}: {call} failed with {statusName} ({status}): {statusText}")
    {
        Library = library;
        Status = status;
        StatusName = statusName;
        Call = call;
    }

    /// <summary>"CUDA driver", "NVRTC", "cuFFT" or "cuBLAS".</summary>
    public string Library { get; }

    public int Status { get; }

    public string StatusName { get; }

    /// <summary>The API function whose status this is.</summary>
    public string Call { get; }
}
