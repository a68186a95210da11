using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// cuFFT (libcufft). Plans are int handles (cufftHandle); data pointers are device pointers. cuFFT has no function
/// that describes a cufftResult, so <see cref="StatusName"/> and <see cref="StatusText"/> are our table of cufft.h's enum.
/// </summary>
public static unsafe partial class Cufft
{
    public const string Library = "cuFFT";

    static Cufft() => NativeLibraries.InstallResolver();

    [LibraryImport(NativeLibraries.Cufft)]
    public static partial int cufftPlanMany(int* plan, int rank, int* n, int* inputEmbed, int inputStride, int inputDistance,
        int* outputEmbed, int outputStride, int outputDistance, CufftType type, int batch);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftExecR2C(int plan, ulong input, ulong output);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftExecC2R(int plan, ulong input, ulong output);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftExecD2Z(int plan, ulong input, ulong output);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftExecZ2D(int plan, ulong input, ulong output);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftSetStream(int plan, nint stream);
    [LibraryImport(NativeLibraries.Cufft)] public static partial int cufftDestroy(int plan);

    // cufftResult (cufft.h), indexed by value.
    private static readonly (string Name, string Text)[] Statuses =
    [
        ("CUFFT_SUCCESS", "the cuFFT operation was successful"),
        ("CUFFT_INVALID_PLAN", "cuFFT was passed an invalid plan handle"),
        ("CUFFT_ALLOC_FAILED", "cuFFT failed to allocate GPU or CPU memory"),
        ("CUFFT_INVALID_TYPE", "invalid transform type"),
        ("CUFFT_INVALID_VALUE", "an invalid pointer or parameter was given"),
        ("CUFFT_INTERNAL_ERROR", "driver or internal cuFFT library error"),
        ("CUFFT_EXEC_FAILED", "failed to execute an FFT on the GPU"),
        ("CUFFT_SETUP_FAILED", "the cuFFT library failed to initialise"),
        ("CUFFT_INVALID_SIZE", "an invalid transform size was given"),
        ("CUFFT_UNALIGNED_DATA", "unaligned data"),
        ("CUFFT_INCOMPLETE_PARAMETER_LIST", "missing parameters in the call"),
        ("CUFFT_INVALID_DEVICE", "the plan is executed on a different GPU than it was created on"),
        ("CUFFT_PARSE_ERROR", "internal plan database error"),
        ("CUFFT_NO_WORKSPACE", "no workspace was provided before plan execution"),
        ("CUFFT_NOT_IMPLEMENTED", "the function does not implement the functionality for the parameters given"),
        ("CUFFT_LICENSE_ERROR", "licence error"),
        ("CUFFT_NOT_SUPPORTED", "the operation is not supported for the parameters given"),
    ];

    public static string StatusName(int status) =>
        (uint)status < (uint)Statuses.Length ? Statuses[status].Name : $"cufftResult {status}";

    public static string StatusText(int status) =>
        (uint)status < (uint)Statuses.Length ? Statuses[status].Text : "unknown cuFFT status";

    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException(Library, status, StatusName(status), StatusText(status), call);
    }
}

/// <summary>cufftType (cufft.h).</summary>
public enum CufftType
{
    R2C = 0x2a,
    C2R = 0x2c,
    C2C = 0x29,
    D2Z = 0x6a,
    Z2D = 0x6c,
    Z2Z = 0x69,
}
