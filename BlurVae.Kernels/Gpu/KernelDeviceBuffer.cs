namespace BlurVae.Kernels.Gpu;

/// <summary>
/// A float32 buffer of a <see cref="KernelBackend"/>: owns one <see cref="KernelBuffer"/> of device memory.
/// Tensors are owned by the garbage collector and never disposed, so a finalizer frees the device memory of an
/// unreachable buffer (through <see cref="KernelDevice.FreeFromFinalizer"/>, which a GPU defers to its own
/// thread); Dispose frees it at once.
/// </summary>
public sealed class KernelDeviceBuffer : DeviceBuffer
{
    internal KernelDeviceBuffer(KernelBackend backend, KernelBuffer buffer)
        : base(backend, DType.Float32, buffer.Length)
    {
        Memory = buffer;
    }

    /// <summary>The device memory the kernels read and write.</summary>
    public KernelBuffer Memory { get; }

    public override void Dispose()
    {
        Memory.Dispose();
        GC.SuppressFinalize(this);
    }

    ~KernelDeviceBuffer()
    {
        // Memory has no finalizer of its own, so it is still intact here.
        Memory.ReleaseFromFinalizer();
    }
}
