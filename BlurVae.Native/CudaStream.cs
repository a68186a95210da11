namespace BlurVae.Native;

/// <summary>A CUDA stream (cuStreamCreate / cuStreamDestroy_v2).</summary>
public sealed unsafe class CudaStream : NativeHandle
{
    private CudaStream(nint handle) : base(handle) { }

    /// <param name="flags"><see cref="Driver.StreamDefault"/> or <see cref="Driver.StreamNonBlocking"/>.</param>
    public static CudaStream Create(uint flags = Driver.StreamNonBlocking)
    {
        nint handle;
        Driver.Check(Driver.cuStreamCreate(&handle, flags), "cuStreamCreate");
        return new CudaStream(handle);
    }

    public void Synchronize() => Driver.Check(Driver.cuStreamSynchronize(Handle), "cuStreamSynchronize");

    protected override void Destroy(nint handle) => Driver.Check(Driver.cuStreamDestroy_v2(handle), "cuStreamDestroy_v2");
}
