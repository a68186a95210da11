namespace BlurVae.Kernels.Device;

/// <summary>
/// Device memory of a <see cref="GpuDevice"/>: <see cref="Length"/> float32 elements at a device address that
/// kernel arguments carry. Dispose returns it to its device; the device counts what is still live, so tests can
/// assert that nothing leaks.
/// </summary>
public sealed class DeviceMemory : IDisposable
{
    private ulong _pointer;

    internal DeviceMemory(GpuDevice device, ulong pointer, int length)
    {
        Device = device;
        _pointer = pointer;
        Length = length;
    }

    /// <summary>Number of float elements.</summary>
    public int Length { get; }

    public GpuDevice Device { get; }

    /// <summary>The device address (on the emulated device, a host address).</summary>
    public ulong Pointer => _pointer != 0 ? _pointer
        : throw new ObjectDisposedException(nameof(DeviceMemory), $"Device memory of {Length} floats used after it was freed (or released by the autograd: Keep() or Detach() a tensor before Backward() to read it afterwards).");

    /// <summary>The address of element <paramref name="offset"/>, checked against the buffer's length.</summary>
    public ulong PointerAt(long offset)
    {
        if (offset < 0 || offset > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset outside a buffer of {Length} elements.");
        return Pointer + (ulong)offset * sizeof(float);
    }

    public bool IsDisposed => _pointer == 0;

    public void Dispose()
    {
        if (_pointer == 0) return;
        Device.Free(_pointer, Length);
        _pointer = 0;
    }

    /// <summary>
    /// Frees from a finalizer (of the <see cref="DeviceBuffer"/> owning this memory). The device decides
    /// whether that may happen on the finalizer thread or must wait for the next call on the owning thread.
    /// </summary>
    internal void ReleaseFromFinalizer()
    {
        if (_pointer == 0) return;
        Device.FreeFromFinalizer(_pointer, Length);
        _pointer = 0;
    }
}
