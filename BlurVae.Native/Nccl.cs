using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// NCCL (libnccl.so.2), found like the CUDA libraries (also in pip's nvidia/nccl/lib). Communicators are pointers
/// (ncclComm_t); buffers are device pointers; every collective is enqueued on a CUDA stream. ncclAvg needs NCCL ≥ 2.10.
/// Every call's ncclResult_t is checked, with ncclGetErrorString's text.
/// </summary>
public static unsafe partial class Nccl
{
    public const string Library = "NCCL";

    /// <summary>ncclDataType_t (nccl.h).</summary>
    public const int Float32 = 7, Float64 = 8;

    /// <summary>ncclRedOp_t (nccl.h): ncclSum 0, ncclAvg 4.</summary>
    public const int Sum = 0, Avg = 4;

    static Nccl() => NativeLibraries.InstallResolver();

    /// <summary>ncclUniqueId: NCCL_UNIQUE_ID_BYTES (128) opaque bytes, passed by value to ncclCommInitRank.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    public struct UniqueId
    {
        public const int Bytes = 128;
        private fixed byte _internal[Bytes];
    }

    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclGetVersion(int* version);
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclGetUniqueId(UniqueId* uniqueId);
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclCommInitRank(nint* comm, int nranks, UniqueId commId, int rank);
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclCommDestroy(nint comm);
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclCommAbort(nint comm);
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclGroupStart();
    [LibraryImport(NativeLibraries.Nccl)] public static partial int ncclGroupEnd();
    [LibraryImport(NativeLibraries.Nccl)]
    public static partial int ncclAllReduce(ulong sendBuffer, ulong receiveBuffer, nuint count, int datatype, int op, nint comm, nint stream);
    [LibraryImport(NativeLibraries.Nccl)]
    public static partial int ncclBroadcast(ulong sendBuffer, ulong receiveBuffer, nuint count, int datatype, int root, nint comm, nint stream);
    [LibraryImport(NativeLibraries.Nccl)] public static partial nint ncclGetErrorString(int result);

    // ncclResult_t (nccl.h), indexed by value.
    private static readonly string[] StatusNames =
    [
        "ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError", "ncclInternalError",
        "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress",
    ];

    public static string StatusName(int status) =>
        (uint)status < (uint)StatusNames.Length ? StatusNames[status] : $"ncclResult_t {status}";

    public static void Check(int status, string call)
    {
        if (status == 0) return;
        string text = Marshal.PtrToStringUTF8(ncclGetErrorString(status)) ?? "unknown NCCL status";
        throw new CudaException(Library, status, StatusName(status), text, call,
            "Set NCCL_DEBUG=INFO for NCCL's own account of the failure.");
    }
}
