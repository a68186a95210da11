namespace BlurVae.Kernels.Cpu;

/// <summary>Host memory: a float[] or double[] array owned by the garbage collector.</summary>
public sealed class CpuBuffer : BackendBuffer
{
    internal CpuBuffer(CpuBackend backend, DType dtype, int length)
        : base(backend, dtype, length)
    {
        var pool = ArrayRecycler.Current;
        Data = dtype == DType.Float32 ? pool.Rent<float>(length, out _lease) : pool.Rent<double>(length, out _lease);
    }

    // Keeps a recycled array out of the pool while this buffer is reachable (null for small arrays).
    private readonly ArrayRecycler.Lease? _lease;

    /// <summary>The underlying array: float[] for Float32, double[] for Float64.</summary>
    public Array Data { get; }

    /// <summary>Whether the array goes back to the <see cref="ArrayRecycler"/> once this buffer is collected.</summary>
    internal bool IsRecycled => _lease is not null;

    public T[] As<T>() => Data as T[] ?? throw new InvalidCastException($"A {DType} buffer holds no {typeof(T).Name}[].");

    public override void Dispose()
    {
        // Host memory belongs to the GC; nothing to release.
    }
}
