using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// cuBLAS (libcublas), column-major. Handles are opaque pointers, matrices device pointers; alpha and beta are host
/// pointers (the default CUBLAS_POINTER_MODE_HOST).
/// </summary>
public static unsafe partial class Cublas
{
    public const string Library = "cuBLAS";

    // cublasOperation_t
    public const int OpN = 0;
    public const int OpT = 1;

    // cublasMath_t
    public const int DefaultMath = 0;
    public const int PedanticMath = 2;
    public const int Tf32TensorOpMath = 3;

    static Cublas() => NativeLibraries.InstallResolver();

    [LibraryImport(NativeLibraries.Cublas)] public static partial int cublasCreate_v2(nint* handle);
    [LibraryImport(NativeLibraries.Cublas)] public static partial int cublasDestroy_v2(nint handle);
    [LibraryImport(NativeLibraries.Cublas)] public static partial int cublasSetStream_v2(nint handle, nint stream);
    [LibraryImport(NativeLibraries.Cublas)] public static partial int cublasSetMathMode(nint handle, int mode);
    /// <summary>The handle's workspace (CUDA 11.0+): set before a graph capture, so cuBLAS allocates none inside it.</summary>
    [LibraryImport(NativeLibraries.Cublas)] public static partial int cublasSetWorkspace_v2(nint handle, ulong workspace, nuint bytes);
    [LibraryImport(NativeLibraries.Cublas)]
    public static partial int cublasSgemm_v2(nint handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int lda, ulong b, int ldb, float* beta, ulong c, int ldc);
    [LibraryImport(NativeLibraries.Cublas)]
    public static partial int cublasSgemmStridedBatched(nint handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float* beta, ulong c, int ldc, long strideC,
        int batchCount);
    [LibraryImport(NativeLibraries.Cublas)]
    public static partial int cublasDgemm_v2(nint handle, int transA, int transB, int m, int n, int k,
        double* alpha, ulong a, int lda, ulong b, int ldb, double* beta, ulong c, int ldc);
    [LibraryImport(NativeLibraries.Cublas)]
    public static partial int cublasDgemmStridedBatched(nint handle, int transA, int transB, int m, int n, int k,
        double* alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double* beta, ulong c, int ldc, long strideC,
        int batchCount);

    // cuBLAS 11.4.2 and newer describe their statuses themselves; older ones (and a missing library) fall back to the table.
    [LibraryImport(NativeLibraries.Cublas)] private static partial byte* cublasGetStatusName(int status);
    [LibraryImport(NativeLibraries.Cublas)] private static partial byte* cublasGetStatusString(int status);

    // cublasStatus_t (cublas_api.h): the fallback for older cuBLAS and for tests without the library.
    private static readonly Dictionary<int, (string Name, string Text)> Statuses = new()
    {
        [0] = ("CUBLAS_STATUS_SUCCESS", "success"),
        [1] = ("CUBLAS_STATUS_NOT_INITIALIZED", "the cuBLAS library was not initialised"),
        [3] = ("CUBLAS_STATUS_ALLOC_FAILED", "resource allocation failed"),
        [7] = ("CUBLAS_STATUS_INVALID_VALUE", "an unsupported value or parameter was passed to the function"),
        [8] = ("CUBLAS_STATUS_ARCH_MISMATCH", "the function requires a feature absent from the device architecture"),
        [11] = ("CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"),
        [13] = ("CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"),
        [14] = ("CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"),
        [15] = ("CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"),
        [16] = ("CUBLAS_STATUS_LICENSE_ERROR", "licence error"),
    };

    /// <summary>Our table's name for a status (no library needed).</summary>
    public static string TableStatusName(int status) =>
        Statuses.TryGetValue(status, out var s) ? s.Name : $"cublasStatus_t {status}";

    /// <summary>Our table's text for a status (no library needed).</summary>
    public static string TableStatusText(int status) =>
        Statuses.TryGetValue(status, out var s) ? s.Text : "unknown cuBLAS status";

    public static void Check(int status, string call)
    {
        if (status != 0) throw Failure(status, call);
    }

    public static CudaException Failure(int status, string call)
    {
        string name, text;
        try
        {
            var n = cublasGetStatusName(status);
            var t = cublasGetStatusString(status);
            name = n != null ? Marshal.PtrToStringUTF8((nint)n)! : TableStatusName(status);
            text = t != null ? Marshal.PtrToStringUTF8((nint)t)! : TableStatusText(status);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            name = TableStatusName(status);
            text = TableStatusText(status);
        }
        return new CudaException(Library, status, name, text, call);
    }
}
