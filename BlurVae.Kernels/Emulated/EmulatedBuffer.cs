namespace BlurVae.Kernels.Emulated;

/// <summary>
/// "Device" memory of the emulated device: float32 elements in 64-byte-aligned native memory, which the host
/// kernels read and write directly. Dispose frees it; the owning device counts what is still live.
/// </summary>
public sealed unsafe class EmulatedBuffer : IDisposable
{
    private readonly EmulatedDevice _device;
    private void* _pointer;

    internal EmulatedBuffer(EmulatedDevice device, void* pointer, int length)
    {
        _device = device;
        _pointer = pointer;
        Length = length;
    }

    /// <summary>Number of float elements.</summary>
    public int Length { get; }

    public EmulatedDevice Device => _device;

    /// <summary>The device pointer a kernel argument carries.</summary>
    public nint Pointer => _pointer != null ? (nint)_pointer : throw new ObjectDisposedException(nameof(EmulatedBuffer));

    internal Span<float> Span => new((void*)Pointer, Length);

    public void Dispose()
    {
        if (_pointer == null) return;
        _device.Free(_pointer, Length);
        _pointer = null;
    }
}
