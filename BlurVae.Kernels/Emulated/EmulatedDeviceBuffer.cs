namespace BlurVae.Kernels.Emulated;

/// <summary>
/// A float32 buffer of <see cref="EmulatedBackend"/>: owns one <see cref="EmulatedBuffer"/> of device memory.
/// Tensors are owned by the garbage collector and never disposed, so a finalizer frees the device memory of an
/// unreachable buffer; Dispose frees it at once.
/// </summary>
public sealed class EmulatedDeviceBuffer : DeviceBuffer
{
    internal EmulatedDeviceBuffer(EmulatedBackend backend, EmulatedBuffer buffer)
        : base(backend, DType.Float32, buffer.Length)
    {
        Memory = buffer;
    }

    /// <summary>The device memory the kernels read and write.</summary>
    public EmulatedBuffer Memory { get; }

    /// <summary>The device memory seen from the host (the emulated device's memory is host memory).</summary>
    internal Span<float> Span => Memory.Span;

    public override void Dispose()
    {
        Memory.Dispose();
        GC.SuppressFinalize(this);
    }

    ~EmulatedDeviceBuffer()
    {
        // Memory has no finalizer of its own, so it is still intact here; freeing it only returns native memory.
        Memory.Dispose();
    }
}
