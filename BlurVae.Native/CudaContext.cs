using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// The device's primary context, retained for the owner's lifetime and made current on the creating thread.
/// The owners in this assembly are IDisposable without finalizers: releasing CUDA objects needs the context current
/// on the releasing thread, which a finalizer thread does not have.
/// </summary>
public sealed unsafe class CudaContext : IDisposable
{
    private bool _disposed;

    private CudaContext(int device, nint handle, string name, int major, int minor, int multiprocessors)
    {
        Device = device;
        Handle = handle;
        Name = name;
        ComputeCapability = (major, minor);
        MultiprocessorCount = multiprocessors;
    }

    public int Device { get; }
    public nint Handle { get; }
    public string Name { get; }
    public (int Major, int Minor) ComputeCapability { get; }
    public int MultiprocessorCount { get; }

    /// <summary>Initialises the driver, retains device <paramref name="ordinal"/>'s primary context and makes it current.</summary>
    public static CudaContext Create(int ordinal = 0)
    {
        Driver.Check(Driver.cuInit(0), "cuInit");
        int count;
        Driver.Check(Driver.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"CUDA device ordinal must be in [0, {count}).");
        int device;
        Driver.Check(Driver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        var name = DeviceName(device);
        int major, minor, sms;
        Driver.Check(Driver.cuDeviceGetAttribute(&major, Driver.AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        Driver.Check(Driver.cuDeviceGetAttribute(&minor, Driver.AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        Driver.Check(Driver.cuDeviceGetAttribute(&sms, Driver.AttributeMultiprocessorCount, device), "cuDeviceGetAttribute");
        nint context;
        Driver.Check(Driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        var status = Driver.cuCtxSetCurrent(context);
        if (status != 0)
        {
            Driver.cuDevicePrimaryCtxRelease_v2(device);
            throw Driver.Failure(status, "cuCtxSetCurrent");
        }
        return new CudaContext(device, context, name, major, minor, sms);
    }

    internal static string DeviceName(int device)
    {
        var buffer = stackalloc byte[256];
        Driver.Check(Driver.cuDeviceGetName(buffer, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)buffer) ?? "";
    }

    /// <summary>Makes this context current on the calling thread (each thread that calls CUDA needs it).</summary>
    public void MakeCurrent() => Driver.Check(Driver.cuCtxSetCurrent(Handle), "cuCtxSetCurrent");

    public void Synchronize() => Driver.Check(Driver.cuCtxSynchronize(), "cuCtxSynchronize");

    /// <summary>Free and total device memory in bytes.</summary>
    public (ulong Free, ulong Total) MemoryInfo()
    {
        nuint free, total;
        Driver.Check(Driver.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return (free, total);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Driver.Check(Driver.cuDevicePrimaryCtxRelease_v2(Device), "cuDevicePrimaryCtxRelease_v2");
    }
}
