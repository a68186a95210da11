namespace BlurVae.Kernels.Cpu;

/// <summary>Host memory: a float[] or double[] array owned by the garbage collector.</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    internal CpuBuffer(CpuBackend backend, DType dtype, int length)
        : base(backend, dtype, length)
    {
        Data = dtype == DType.Float32 ? new float[length] : new double[length];
    }

    /// <summary>The underlying array: float[] for Float32, double[] for Float64.</summary>
    public Array Data { get; }

    public T[] As<T>() => Data as T[] ?? throw new InvalidCastException($"A {DType} buffer holds no {typeof(T).Name}[].");

    public override void Dispose()
    {
        // Host memory belongs to the GC; nothing to release.
    }
}
