namespace BlurVae.Kernels.Device;

/// <summary>
/// The free lists of a caching allocator, as in PyTorch: a freed block goes back to the list of its (rounded) size
/// and is handed out again for the next request of that size, without a driver call. Shared by the CUDA device and
/// the recording device, so the recording device counts exactly the real allocations a GPU would make.
/// Thread-safe: finalizer threads return blocks.
/// </summary>
internal sealed class BlockCache
{
    /// <summary>cudaMalloc's own alignment; sizes are rounded up to it so blocks are reusable.</summary>
    public const long Granule = 512;

    private readonly Dictionary<long, Stack<ulong>> _free = new();
    private readonly Lock _lock = new();
    private long _cachedBytes;

    public static long Rounded(long bytes) => (bytes + Granule - 1) / Granule * Granule;

    /// <summary>Bytes held in free blocks.</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>A free block of <paramref name="rounded"/> bytes, if one is cached.</summary>
    public bool TryTake(long rounded, out ulong pointer)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(rounded, out var stack) && stack.Count > 0)
            {
                pointer = stack.Pop();
                Interlocked.Add(ref _cachedBytes, -rounded);
                return true;
            }
        }
        pointer = 0;
        return false;
    }

    public void Return(ulong pointer, long rounded)
    {
        lock (_lock)
        {
            if (!_free.TryGetValue(rounded, out var stack)) _free[rounded] = stack = new Stack<ulong>();
            stack.Push(pointer);
        }
        Interlocked.Add(ref _cachedBytes, rounded);
    }

    /// <summary>Empties the cache, handing each free block to <paramref name="release"/>.</summary>
    public void Drain(Action<ulong> release)
    {
        lock (_lock)
        {
            foreach (var (size, stack) in _free)
                while (stack.Count > 0)
                {
                    release(stack.Pop());
                    Interlocked.Add(ref _cachedBytes, -size);
                }
        }
    }

    public void Clear()
    {
        lock (_lock) _free.Clear();
        Interlocked.Exchange(ref _cachedBytes, 0);
    }
}
