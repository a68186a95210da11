namespace BlurVae.Kernels.Device;

/// <summary>
/// A captured sequence of stream operations that <see cref="GpuDevice.Replay"/> runs again with the same arguments:
/// a CUDA graph (cuGraphInstantiate'd, replayed with cuGraphLaunch) on a GPU, the recorded operations themselves on
/// the emulated and recording devices (<see cref="HostGraph"/>). The device memory the captured operations use stays
/// reserved for the graph (<see cref="Pool"/>) until it is disposed, so every replay finds its buffers where the
/// capture saw them and nothing else is handed those addresses in between.
/// </summary>
public abstract class DeviceGraph : IDisposable
{
    internal DeviceGraph(GpuDevice device, GraphMemoryPool pool, long operations)
    {
        Device = device;
        Pool = pool;
        Operations = operations;
    }

    public GpuDevice Device { get; }

    /// <summary>Stream operations captured (launches, cuBLAS/cuFFT calls, memsets, copies): what one replay runs.</summary>
    public long Operations { get; }

    internal GraphMemoryPool Pool { get; }

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        DestroyCore();
        Device.ReleaseGraphPool(Pool);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the device made for the graph (cuGraphExecDestroy, cuGraphDestroy on a GPU).</summary>
    protected virtual void DestroyCore() { }
}

/// <summary>The operations a host-side capture recorded, replayed in order by calling the device's primitives again.</summary>
internal sealed class HostGraph(GpuDevice device, GraphMemoryPool pool, IReadOnlyList<Action> operations)
    : DeviceGraph(device, pool, operations.Count)
{
    public IReadOnlyList<Action> Recorded { get; } = operations;
}

/// <summary>
/// The device memory of one graph: every block a capture took. A block the capture frees goes back to this pool (so
/// later requests of the same capture reuse it, as the caching allocator would) and never to the device's cache while
/// the graph lives; blocks still held by tensors when the capture ends (the parameters' gradients) come back here
/// when those tensors are released.
/// </summary>
internal sealed class GraphMemoryPool
{
    private readonly Dictionary<ulong, long> _owned = [];
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly Lock _lock = new();

    public bool Owns(ulong pointer)
    {
        lock (_lock) return _owned.ContainsKey(pointer);
    }

    public bool TryTake(long rounded, out ulong pointer)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(rounded, out var stack) && stack.Count > 0)
            {
                pointer = stack.Pop();
                return true;
            }
        }
        pointer = 0;
        return false;
    }

    public void Own(ulong pointer, long rounded)
    {
        lock (_lock) _owned[pointer] = rounded;
    }

    public void Return(ulong pointer)
    {
        lock (_lock)
        {
            long rounded = _owned[pointer];
            if (!_free.TryGetValue(rounded, out var stack)) _free[rounded] = stack = new Stack<ulong>();
            stack.Push(pointer);
        }
    }

    /// <summary>The free blocks, handed back with their sizes; the pool forgets every block (live ones then free to the cache).</summary>
    public List<(ulong Pointer, long Rounded)> Dissolve()
    {
        lock (_lock)
        {
            var free = _free.SelectMany(kv => kv.Value.Select(p => (p, kv.Key))).ToList();
            _free.Clear();
            _owned.Clear();
            return free;
        }
    }
}

/// <summary>An operation a capture may not contain (a host wait, a real allocation, an upload); the capture is abandoned.</summary>
public sealed class GraphCaptureException(string message) : InvalidOperationException(message);
