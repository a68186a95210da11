namespace BlurVae.Native;

/// <summary>
/// Page-locked host memory (cuMemHostAlloc / cuMemFreeHost): the staging buffer of an asynchronous upload. The
/// driver can copy from it by DMA while the host goes on; from pageable memory cuMemcpyHtoDAsync would stage the
/// bytes itself and return only when they are copied.
/// </summary>
public sealed unsafe class PinnedHostMemory : IDisposable
{
    private PinnedHostMemory(void* pointer, long bytes)
    {
        Pointer = pointer;
        Bytes = bytes;
    }

    /// <summary>The host address; null after disposal.</summary>
    public void* Pointer { get; private set; }

    public long Bytes { get; }

    /// <summary>Needs a current context (cuMemHostAlloc belongs to it).</summary>
    public static PinnedHostMemory Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        void* pointer;
        Driver.Check(Driver.cuMemHostAlloc(&pointer, (nuint)bytes, 0), $"cuMemHostAlloc({bytes} bytes)");
        return new PinnedHostMemory(pointer, bytes);
    }

    public void Dispose()
    {
        if (Pointer == null) return;
        var pointer = Pointer;
        Pointer = null;
        Driver.Check(Driver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }
}
