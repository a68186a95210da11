namespace BlurVae.Native;

/// <summary>
/// A handle a native library made (a CUDA stream, event or module, a cuBLAS handle) and destroys exactly once: Dispose
/// clears <see cref="Handle"/> before the destroy call, so a destroy that throws is not tried again and every later
/// call sees 0.
/// </summary>
public abstract class NativeHandle(nint handle) : IDisposable
{
    public nint Handle { get; private set; } = handle;

    /// <summary>The library's destroy call for <paramref name="handle"/>, its status checked.</summary>
    protected abstract void Destroy(nint handle);

    public void Dispose()
    {
        if (Handle == 0) return;
        var handle = Handle;
        Handle = 0;
        Destroy(handle);
    }
}
