namespace BlurVae.Native;

/// <summary>A CUDA event, for timing kernels and ordering streams.</summary>
public sealed unsafe class CudaEvent : NativeHandle
{
    private CudaEvent(nint handle) : base(handle) { }

    /// <param name="flags"><see cref="Driver.EventDefault"/> (timing enabled), <see cref="Driver.EventBlockingSync"/>,
    /// <see cref="Driver.EventDisableTiming"/>.</param>
    public static CudaEvent Create(uint flags = Driver.EventDefault)
    {
        nint handle;
        Driver.Check(Driver.cuEventCreate(&handle, flags), "cuEventCreate");
        return new CudaEvent(handle);
    }

    /// <summary>Records the event on <paramref name="stream"/> (null: the legacy default stream).</summary>
    public void Record(CudaStream? stream = null) =>
        Driver.Check(Driver.cuEventRecord(Handle, stream?.Handle ?? 0), "cuEventRecord");

    public void Synchronize() => Driver.Check(Driver.cuEventSynchronize(Handle), "cuEventSynchronize");

    /// <summary>Whether the work before the last <see cref="Record"/> is done (cuEventQuery; never waits).</summary>
    public bool IsComplete
    {
        get
        {
            int status = Driver.cuEventQuery(Handle);
            if (status == Driver.ErrorNotReady) return false;
            Driver.Check(status, "cuEventQuery");
            return true;
        }
    }

    /// <summary>Milliseconds between two recorded, completed events.</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        float ms;
        Driver.Check(Driver.cuEventElapsedTime(&ms, start.Handle, end.Handle), "cuEventElapsedTime");
        return ms;
    }

    protected override void Destroy(nint handle) => Driver.Check(Driver.cuEventDestroy_v2(handle), "cuEventDestroy_v2");
}
