namespace BlurVae.Kernels.Device;

/// <summary>
/// A float32 buffer of a <see cref="DeviceBackend"/>: owns one <see cref="DeviceMemory"/> of device memory.
/// The autograd releases the buffers it owns as soon as backward is done with them (<see cref="BackendBuffer.Release"/>,
/// back to the device's caching allocator); for the others a finalizer frees the device memory of an unreachable buffer (through <see cref="GpuDevice.FreeFromFinalizer"/>, which a GPU defers to its own
/// thread); Dispose frees it at once.
/// </summary>
public sealed class DeviceBuffer : BackendBuffer
{
    internal DeviceBuffer(DeviceBackend backend, DeviceMemory buffer)
        : base(backend, DType.Float32, buffer.Length)
    {
        Memory = buffer;
    }

    /// <summary>The device memory the kernels read and write.</summary>
    public DeviceMemory Memory { get; }

    protected override void ReturnStorage()
    {
        Memory.Dispose();
        GC.SuppressFinalize(this);
    }

    public override void Dispose()
    {
        Memory.Dispose();
        GC.SuppressFinalize(this);
    }

    ~DeviceBuffer()
    {
        // Memory has no finalizer of its own, so it is still intact here.
        Memory.ReleaseFromFinalizer();
    }
}
