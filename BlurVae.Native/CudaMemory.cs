namespace BlurVae.Native;

/// <summary>One device allocation (cuMemAlloc_v2 / cuMemFree_v2) with copies to and from host spans.</summary>
public sealed unsafe class CudaMemory : IDisposable
{
    private CudaMemory(ulong pointer, long bytes)
    {
        Pointer = pointer;
        Bytes = bytes;
    }

    /// <summary>The CUdeviceptr; 0 after disposal.</summary>
    public ulong Pointer { get; private set; }

    public long Bytes { get; }

    public static CudaMemory Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ulong pointer;
        Driver.Check(Driver.cuMemAlloc_v2(&pointer, (nuint)bytes), $"cuMemAlloc_v2({bytes} bytes)");
        return new CudaMemory(pointer, bytes);
    }

    /// <summary>Copies <paramref name="source"/> to the start of this allocation (synchronous).</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        var bytes = CheckedBytes<T>(source.Length, nameof(source));
        fixed (T* p = source)
            Driver.Check(Driver.cuMemcpyHtoD_v2(Live, p, bytes), "cuMemcpyHtoD_v2");
    }

    /// <summary>Copies the start of this allocation into <paramref name="destination"/> (synchronous).</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        var bytes = CheckedBytes<T>(destination.Length, nameof(destination));
        fixed (T* p = destination)
            Driver.Check(Driver.cuMemcpyDtoH_v2(p, Live, bytes), "cuMemcpyDtoH_v2");
    }

    /// <summary>Copies <paramref name="bytes"/> bytes from another allocation, ordered on <paramref name="stream"/>.</summary>
    public void CopyFrom(CudaMemory source, long bytes, CudaStream? stream = null)
    {
        if (bytes < 0 || bytes > Bytes || bytes > source.Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"Copy of {bytes} bytes between allocations of {source.Bytes} and {Bytes} bytes.");
        if (stream is null)
            Driver.Check(Driver.cuMemcpyDtoD_v2(Live, source.Live, (nuint)bytes), "cuMemcpyDtoD_v2");
        else
            Driver.Check(Driver.cuMemcpyDtoDAsync_v2(Live, source.Live, (nuint)bytes, stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>Sets every 32-bit word to <paramref name="value"/>; the size must be a multiple of 4 bytes.</summary>
    public void Fill32(uint value, CudaStream? stream = null)
    {
        if (Bytes % 4 != 0)
            throw new InvalidOperationException($"Fill32 needs a multiple of 4 bytes; this allocation has {Bytes}.");
        var words = (nuint)(Bytes / 4);
        if (stream is null)
            Driver.Check(Driver.cuMemsetD32_v2(Live, value, words), "cuMemsetD32_v2");
        else
            Driver.Check(Driver.cuMemsetD32Async(Live, value, words, stream.Handle), "cuMemsetD32Async");
    }

    private ulong Live => Pointer != 0 ? Pointer : throw new ObjectDisposedException(nameof(CudaMemory));

    private nuint CheckedBytes<T>(int length, string argument) where T : unmanaged
    {
        var bytes = (long)length * sizeof(T);
        if (bytes > Bytes)
            throw new ArgumentException($"{argument} holds {bytes} bytes but the device allocation only {Bytes}.", argument);
        return (nuint)bytes;
    }

    public void Dispose()
    {
        if (Pointer == 0) return;
        var pointer = Pointer;
        Pointer = 0;
        Driver.Check(Driver.cuMemFree_v2(pointer), "cuMemFree_v2");
    }
}
