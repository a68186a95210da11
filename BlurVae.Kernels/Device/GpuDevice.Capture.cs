namespace BlurVae.Kernels.Device;

// Stream capture (CUDA graphs). Between BeginCapture and EndCapture the stream operations are recorded, not run:
// on a GPU by the driver (cuStreamBeginCapture in relaxed mode), elsewhere by the host (HostGraph), so CI replays
// exactly what a capture recorded. A capture must contain only stream work: a host wait, a real allocation or an
// upload throws GraphCaptureException, and the caller abandons it (AbortCapture) for eager mode. Counting: captured
// operations are not stream operations of the capturing step; a replay counts one graph launch and its operations
// (DeviceCounts.GraphLaunches, GraphOperations), so StreamOperations keeps meaning what the host enqueued one by one.
public abstract partial class GpuDevice
{
    private sealed class Capture(GraphMemoryPool pool, List<Action>? hostOperations)
    {
        public GraphMemoryPool Pool { get; } = pool;
        public List<Action>? HostOperations { get; } = hostOperations;
        public long Operations { get; set; }
    }

    private Capture? _capture;
    private readonly List<GraphMemoryPool> _graphPools = [];

    /// <summary>Whether a capture is in progress.</summary>
    public bool IsCapturing => _capture is not null;

    /// <summary>
    /// Whether the host records a capture (the emulated and recording devices) rather than the driver (a GPU, which
    /// overrides <see cref="BeginCaptureCore"/> and the rest and returns false).
    /// </summary>
    protected virtual bool CapturesOnTheHost => true;

    /// <summary>Starts recording this device's stream operations instead of running them.</summary>
    public void BeginCapture()
    {
        if (_capture is not null) throw new InvalidOperationException("A capture is already in progress on this device.");
        var pool = new GraphMemoryPool();
        BeginCaptureCore();
        _capture = new Capture(pool, CapturesOnTheHost ? [] : null);
        lock (_graphPools) _graphPools.Add(pool);
    }

    /// <summary>Ends the capture and makes the graph (instantiated once, replayed by <see cref="Replay"/>).</summary>
    public DeviceGraph EndCapture()
    {
        var capture = _capture ?? throw new InvalidOperationException("No capture is in progress on this device.");
        _capture = null;
        try
        {
            return capture.HostOperations is { } ops
                ? new HostGraph(this, capture.Pool, ops)
                : EndCaptureCore(capture.Pool, capture.Operations);
        }
        catch
        {
            ReleaseGraphPool(capture.Pool);
            throw;
        }
    }

    /// <summary>Abandons a capture (after a <see cref="GraphCaptureException"/>): nothing recorded runs, its memory returns to the cache.</summary>
    public void AbortCapture()
    {
        var capture = _capture;
        if (capture is null) return;
        _capture = null;
        if (capture.HostOperations is null) AbortCaptureCore();
        ReleaseGraphPool(capture.Pool);
    }

    /// <summary>Runs a captured graph once more: one graph launch on the stream, no host wait.</summary>
    public void Replay(DeviceGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Device != this) throw new ArgumentException($"The graph belongs to another device ({graph.Device.Name}).", nameof(graph));
        ObjectDisposedException.ThrowIf(graph.IsDisposed, graph);
        if (_capture is not null) throw new GraphCaptureException("A graph cannot be replayed inside a capture.");
        if (graph is HostGraph host)
            foreach (var op in host.Recorded) op();
        else ReplayCore(graph);
        _counter.GraphLaunch(graph.Operations);
    }

    protected virtual void BeginCaptureCore() { }

    private protected virtual DeviceGraph EndCaptureCore(GraphMemoryPool pool, long operations) =>
        throw new NotSupportedException($"{Name} records captures on the host.");

    protected virtual void AbortCaptureCore() { }

    protected virtual void ReplayCore(DeviceGraph graph) =>
        throw new NotSupportedException($"{Name} replays host graphs only.");

    /// <summary>
    /// Queues one stream operation, or records it while capturing: kept for replay when the host records the capture,
    /// run into the driver's capture on a GPU. <paramref name="count"/> counts it as a stream operation when eager.
    /// </summary>
    private void Enqueue<TState>(TState state, Action<GpuDevice, TState> run, Action<StreamCounter> count)
    {
        var capture = _capture;
        if (capture is null)
        {
            run(this, state);
            count(_counter);
            return;
        }
        capture.Operations++;
        if (capture.HostOperations is { } ops) ops.Add(() => run(this, state));
        else run(this, state);
    }

    /// <summary>Throws the capture's failure when <paramref name="what"/> happens inside one.</summary>
    private void RefuseInCapture(string what)
    {
        if (_capture is not null)
            throw new GraphCaptureException($"{what} inside a CUDA graph capture: a captured step may only queue stream work " +
                                            "(no host wait, no real device allocation, no upload); the step runs eagerly instead.");
    }

    /// <summary>A block for <see cref="Allocate"/>: while capturing, from the graph's pool first, and owned by it.</summary>
    private ulong AllocateForCapture(long bytes)
    {
        var capture = _capture;
        if (capture is null) return AllocateBytes(bytes);
        long rounded = BlockCache.Rounded(bytes);
        if (!capture.Pool.TryTake(rounded, out ulong pointer))
        {
            pointer = AllocateBytes(bytes); // a cache hit, or a real allocation, which CountAllocation refuses
            capture.Pool.Own(pointer, rounded);
        }
        return pointer;
    }

    /// <summary>A freed block goes to the graph that owns it, if any, else to the device's cache.</summary>
    private void FreeBlock(ulong pointer, long bytes)
    {
        lock (_graphPools)
            foreach (var pool in _graphPools)
                if (pool.Owns(pointer))
                {
                    pool.Return(pointer);
                    return;
                }
        FreeBytes(pointer, bytes);
    }

    /// <summary>A disposed (or abandoned) graph's memory: its free blocks back to the cache, its live ones free to go there.</summary>
    internal void ReleaseGraphPool(GraphMemoryPool pool)
    {
        lock (_graphPools) _graphPools.Remove(pool);
        foreach (var (pointer, rounded) in pool.Dissolve()) FreeBytes(pointer, rounded);
    }
}
