using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// The CUDA driver API (libcuda), bound by the symbols the driver exports. cuda.h maps several names onto versioned
/// symbols (cuMemAlloc → cuMemAlloc_v2, cuStreamDestroy → cuStreamDestroy_v2, ...); we bind those exported names
/// directly. Device pointers are CUdeviceptr = unsigned long long, handles are opaque pointers (nint).
/// Every function returns a CUresult; pass it to <see cref="Check"/>.
/// </summary>
public static unsafe partial class Driver
{
    public const string Library = "CUDA driver";

    static Driver() => NativeLibraries.InstallResolver();

    // CUdevice_attribute values used here (cuda.h).
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;

    // CUfunction_attribute values (cuda.h) for cuFuncGetAttribute.
    public const int FuncAttributeMaxThreadsPerBlock = 0;
    public const int FuncAttributeNumRegs = 4;

    // CUjit_option values (cuda.h) for cuModuleLoadDataEx.
    public const int JitInfoLogBuffer = 3;
    public const int JitInfoLogBufferSizeBytes = 4;
    public const int JitErrorLogBuffer = 5;
    public const int JitErrorLogBufferSizeBytes = 6;

    // Stream and event flags (cuda.h).
    public const uint StreamDefault = 0;
    public const uint StreamNonBlocking = 1;
    public const uint EventDefault = 0;
    public const uint EventBlockingSync = 1;
    public const uint EventDisableTiming = 2;

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuInit(uint flags);
    /// <summary>The CUDA version the driver supports, 1000·major + 10·minor (12040 for 12.4); needs no cuInit.</summary>
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuCtxSynchronize();

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemGetInfo_v2(nuint* free, nuint* total);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemAlloc_v2(ulong* pointer, nuint bytes);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemFree_v2(ulong pointer);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyDtoD_v2(ulong destination, ulong source, nuint bytes);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemsetD32_v2(ulong destination, uint value, nuint count);
    // cuMemsetD32Async never got a _v2 symbol (cuda.h maps it only to _ptsz under per-thread default streams).
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuModuleLoadDataEx(nint* module, void* image, uint optionCount, int* options, void** optionValues);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuFuncGetAttribute(int* value, int attribute, nint function);
    [LibraryImport(NativeLibraries.Cuda)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** kernelParameters, void** extra);

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuStreamDestroy_v2(nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventCreate(nint* @event, uint flags);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventRecord(nint @event, nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventSynchronize(nint @event);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventDestroy_v2(nint @event);
    /// <summary>0 (CUDA_SUCCESS) once the event's work is done, <see cref="ErrorNotReady"/> while it is not; never waits.</summary>
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuEventQuery(nint @event);

    /// <summary>CUDA_ERROR_NOT_READY: cuEventQuery's "not yet", not a failure.</summary>
    public const int ErrorNotReady = 600;

    // Page-locked host memory (cuda.h): the source of an asynchronous upload must be pinned, or the copy is staged
    // through a driver buffer and synchronous after all.
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemHostAlloc(void** pointer, nuint bytes, uint flags);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuMemFreeHost(void* pointer);

    // Stream capture and graphs (cuda.h). CUstreamCaptureMode: GLOBAL 0, THREAD_LOCAL 1, RELAXED 2 (relaxed: other
    // threads' and this thread's "potentially unsafe" calls are not refused; the capture itself still fails on a
    // synchronising call into the capturing stream). cuda.h maps cuStreamBeginCapture to the _v2 symbol (the mode
    // argument, CUDA 10.1+). cuGraphInstantiate changed signature in CUDA 12 (flags instead of the error-node/log
    // arguments of 11.x, whose symbol is cuGraphInstantiate_v2); cuGraphInstantiateWithFlags is the same call in both
    // (exported since 11.4), so that is the one bound.
    public const int StreamCaptureModeRelaxed = 2;
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuStreamBeginCapture_v2(nint stream, int mode);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuStreamEndCapture(nint stream, nint* graph);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGraphExecDestroy(nint graphExec);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGraphDestroy(nint graph);

    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(NativeLibraries.Cuda)] public static partial int cuGetErrorString(int error, byte** text);

    /// <summary>Throws a <see cref="CudaException"/> with the driver's name and text for a non-zero CUresult.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw Failure(status, call);
    }

    /// <summary>The exception for a CUresult, with an optional log (the JIT's, for module loads).</summary>
    public static CudaException Failure(int status, string call, string? detail = null)
    {
        byte* name = null, text = null;
        string statusName = $"CUresult {status}", statusText = "unknown CUDA driver error";
        try
        {
            // cuGetErrorName/String answer CUDA_ERROR_INVALID_VALUE for codes this driver does not know.
            if (cuGetErrorName(status, &name) == 0 && name != null) statusName = Marshal.PtrToStringUTF8((nint)name)!;
            if (cuGetErrorString(status, &text) == 0 && text != null) statusText = Marshal.PtrToStringUTF8((nint)text)!;
        }
        catch (DllNotFoundException)
        {
            // No driver to ask: keep the numeric status.
        }
        return new CudaException(Library, status, statusName, statusText, call, detail);
    }
}
