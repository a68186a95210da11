namespace BlurVae.Kernels.Cpu;

/// <summary>Host memory: a float[] or double[] array, large ones lent by the <see cref="ArrayRecycler"/>.</summary>
public sealed class CpuBuffer : BackendBuffer
{
    private Array? _data;

    // Keeps a recycled array out of the pool while this buffer is reachable (null for small arrays).
    private readonly ArrayRecycler.Lease? _lease;

    internal CpuBuffer(CpuBackend backend, DType dtype, int length, bool zeroed)
        : base(backend, dtype, length)
    {
        var pool = ArrayRecycler.Current;
        if (dtype == DType.Float32)
        {
            var a = pool.Rent<float>(length, zeroed, out _lease);
            if (!zeroed && CpuBackend.PoisonUninitialized) Array.Fill(a, float.NaN);
            _data = a;
        }
        else
        {
            var a = pool.Rent<double>(length, zeroed, out _lease);
            if (!zeroed && CpuBackend.PoisonUninitialized) Array.Fill(a, double.NaN);
            _data = a;
        }
    }

    /// <summary>The underlying array: float[] for Float32, double[] for Float64.</summary>
    public Array Data => _data ?? throw new ObjectDisposedException(ToString(), "This buffer was released by the autograd (its tensor was an intermediate that backward had finished with); Keep() or Detach() the tensor before Backward() to read it afterwards.");

    /// <summary>Whether the array goes back to the <see cref="ArrayRecycler"/> once this buffer is released or collected.</summary>
    internal bool IsRecycled => _lease is not null;

    public T[] As<T>() => Data as T[] ?? throw new InvalidCastException($"A {DType} buffer holds no {typeof(T).Name}[].");

    // The array goes back to the pool now instead of when the lease is finalised; this buffer forgets it.
    protected override void ReturnStorage()
    {
        _lease?.ReturnNow();
        _data = null;
    }

    public override void Dispose()
    {
        // Host memory belongs to the GC; nothing to release.
    }
}
