namespace BlurVae.Kernels;

/// <summary>
/// A flat, contiguous block of elements owned by one backend. Tensors view one buffer each; every op writes
/// a fresh output buffer, so buffers are never aliased by two live tensors unless a view op says so.
/// </summary>
public abstract class BackendBuffer : IDisposable
{
    protected BackendBuffer(IBackend backend, DType dtype, int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Buffer length must be non-negative.");
        Backend = backend;
        DType = dtype;
        Length = length;
    }

    public IBackend Backend { get; }

    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public abstract void Dispose();
}
