namespace BlurVae.Kernels;

/// <summary>
/// A flat, contiguous block of elements owned by one backend. Tensors view one buffer each; every op writes
/// a fresh output buffer, so buffers are never aliased by two live tensors unless a view op says so.
/// <para>
/// Lifetime: by default a buffer's storage goes back to the backend when the garbage collector finds the buffer
/// unreachable. The autograd returns the storage of the buffers it owns earlier, deterministically: it counts its
/// own holds (<see cref="Hold"/>/<see cref="Drop"/>) and calls <see cref="Release"/> when the last one goes, unless
/// the buffer is <see cref="Pinned"/> (some tensor outside the autograd's bookkeeping refers to it). After
/// <see cref="Release"/> every access to the storage throws <see cref="ObjectDisposedException"/>, so a
/// use-after-release is an error at the use, never a silent read of recycled memory.
/// </para>
/// </summary>
public abstract class BackendBuffer : IDisposable
{
    private static long _created;
    [ThreadStatic] private static List<BackendBuffer>? _tracker;
    private int _holds;

    protected BackendBuffer(IBackend backend, DType dtype, int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Buffer length must be non-negative.");
        Backend = backend;
        DType = dtype;
        Length = length;
        Serial = Interlocked.Increment(ref _created);
        _tracker?.Add(this);
    }

    /// <summary>
    /// Until the returned scope ends, every buffer this thread creates is also added to <paramref name="created"/>
    /// (the autograd's way to find the temporaries of a node's backward); scopes do not nest.
    /// </summary>
    public static IDisposable TrackCreated(List<BackendBuffer> created)
    {
        if (_tracker is not null) throw new InvalidOperationException("Buffer tracking scopes do not nest.");
        _tracker = created;
        return new TrackingScope();
    }

    /// <summary>
    /// For a buffer that wraps <paramref name="inner"/> (a decorating backend): the wrapper owns the inner buffer's
    /// lifetime (its <see cref="ReturnStorage"/> releases it), so the inner one is not tracked as a buffer of its own.
    /// </summary>
    protected static void Adopt(BackendBuffer inner) => _tracker?.Remove(inner);

    private sealed class TrackingScope : IDisposable
    {
        public void Dispose() => _tracker = null;
    }

    /// <summary>Releases the buffer unless the autograd holds it or it is pinned (a temporary nobody kept).</summary>
    public void ReleaseIfUnclaimed()
    {
        if (_holds == 0 && !Pinned) Release();
    }

    public IBackend Backend { get; }

    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Creation order (process-wide, increasing), so the autograd can tell the buffers a pass created.</summary>
    public long Serial { get; }

    /// <summary>Buffers created so far; the next buffer's <see cref="Serial"/> is larger.</summary>
    public static long CreatedCount => Interlocked.Read(ref _created);

    /// <summary>Something outside the autograd's holds refers to this buffer: <see cref="Drop"/> never releases it.</summary>
    public bool Pinned { get; private set; }

    /// <summary>Whether <see cref="Release"/> has returned the storage.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>Marks the buffer as referenced from outside the autograd (a kept or detached tensor); irreversible.</summary>
    public void Pin() => Pinned = true;

    /// <summary>One more autograd hold.</summary>
    public void Hold()
    {
        ObjectDisposedException.ThrowIf(IsReleased, this);
        _holds++;
    }

    /// <summary>One hold fewer; the last one releases the storage unless the buffer is pinned.</summary>
    public void Drop()
    {
        if (_holds <= 0) throw new InvalidOperationException($"{this}: more autograd drops than holds.");
        if (--_holds == 0 && !Pinned) Release();
    }

    /// <summary>Returns the storage to the backend's cache now; later accesses throw.</summary>
    public void Release()
    {
        if (IsReleased) return;
        IsReleased = true;
        ReturnStorage();
    }

    /// <summary>Gives the storage back to the backend's recycler (CPU) or caching allocator (device).</summary>
    protected abstract void ReturnStorage();

    public override string ToString() => $"{GetType().Name}[{Length} × {DType}]";

    public abstract void Dispose();
}
