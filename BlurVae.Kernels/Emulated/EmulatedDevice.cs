using System.Runtime.InteropServices;
using System.Text;

namespace BlurVae.Kernels.Emulated;

/// <summary>
/// A CUDA device emulated on the host: memory is aligned native memory and kernels are those of kernels.cu built
/// with g++ (libblurvae_kernels_host.so), launched by name with the same argument array cuLaunchKernel takes.
/// The launchers (EmulatedDevice.Elementwise.cs, .Optim.cs, .Reduce.cs) mirror kernels/*.cuh and choose the
/// launch geometry. Allocations are counted so that tests can assert that nothing leaks.
/// </summary>
public sealed unsafe partial class EmulatedDevice
{
    private const nuint Alignment = 64;
    private readonly HostKernelLibrary _library;
    private long _liveAllocations;
    private long _liveBytes;

    /// <param name="libraryPath">The host kernels library; default: libblurvae_kernels_host.so next to this assembly.</param>
    public EmulatedDevice(string? libraryPath = null)
    {
        _library = HostKernelLibrary.Load(libraryPath ?? DefaultLibraryPath);
    }

    public static string DefaultLibraryPath => Path.Combine(AppContext.BaseDirectory, HostKernelLibrary.FileName);

    /// <summary>Buffers allocated and not yet disposed.</summary>
    public long LiveAllocations => Interlocked.Read(ref _liveAllocations);

    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    /// <summary>Every kernel the library registers, self-test kernels included.</summary>
    public IReadOnlyList<string> KernelNames => _library.KernelNames();

    /// <summary>A zero-filled buffer of <paramref name="length"/> floats.</summary>
    public EmulatedBuffer Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        void* p = NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear(p, bytes);
        Interlocked.Increment(ref _liveAllocations);
        Interlocked.Add(ref _liveBytes, (long)bytes);
        return new EmulatedBuffer(this, p, length);
    }

    internal void Free(void* p, int length)
    {
        NativeMemory.AlignedFree(p);
        Interlocked.Decrement(ref _liveAllocations);
        Interlocked.Add(ref _liveBytes, -(long)Math.Max(1, length) * sizeof(float));
    }

    public void Upload(EmulatedBuffer dst, ReadOnlySpan<float> src)
    {
        CheckOwned(dst, nameof(dst));
        if (src.Length != dst.Length) throw new ArgumentException($"dst has {dst.Length} elements, the source {src.Length}.", nameof(dst));
        src.CopyTo(dst.Span);
    }

    public void Download(EmulatedBuffer src, Span<float> dst)
    {
        CheckOwned(src, nameof(src));
        if (src.Length != dst.Length) throw new ArgumentException($"src has {src.Length} elements, the destination {dst.Length}.", nameof(src));
        src.Span.CopyTo(dst);
    }

    public float[] Download(EmulatedBuffer src)
    {
        var result = new float[src.Length];
        Download(src, result);
        return result;
    }

    /// <summary>
    /// Launches <paramref name="kernel"/> synchronously. Each argument is passed by a pointer to its value, as
    /// cuLaunchKernel's kernelParams; the library checks their number and sizes against the kernel's parameters.
    /// </summary>
    /// <exception cref="EmulatedLaunchException">Unknown kernel, bad configuration or arguments, or a barrier/shuffle mismatch.</exception>
    public void Launch(string kernel, Dim3 grid, Dim3 block, params ReadOnlySpan<KernelArg> args)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        int n = args.Length;
        ulong* values = stackalloc ulong[Math.Max(1, n)];
        void** pointers = stackalloc void*[Math.Max(1, n)];
        uint* sizes = stackalloc uint[Math.Max(1, n)];
        for (int i = 0; i < n; i++)
        {
            values[i] = args[i].Bits;
            pointers[i] = &values[i];
            sizes[i] = args[i].Size;
        }
        byte[] name = Encoding.UTF8.GetBytes(kernel + "\0");
        int rc;
        fixed (byte* namePtr = name)
            rc = _library.Launch(namePtr, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, 0, pointers, (uint)n, sizes);
        if (rc != 0) throw new EmulatedLaunchException(kernel, (HostLaunchError)rc, _library.LastErrorMessage());
    }

    private void CheckOwned(EmulatedBuffer buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Device != this) throw new ArgumentException("The buffer belongs to another emulated device.", name);
    }

    /// <summary>Blocks of <paramref name="blockSize"/> threads covering <paramref name="n"/> elements.</summary>
    private static Dim3 GridFor(int n, int blockSize) => new((uint)((n + blockSize - 1) / blockSize));

    private static void CheckBlockSize(int blockSize, bool multipleOf32 = false)
    {
        if (blockSize < 1 || blockSize > 1024 || (multipleOf32 && blockSize % 32 != 0))
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize,
                multipleOf32 ? "block size must be a multiple of 32 in [32, 1024]" : "block size must be in [1, 1024]");
    }

    private void CheckBuffer(EmulatedBuffer buffer, long atLeast, string name)
    {
        CheckOwned(buffer, name);
        if (buffer.Length < atLeast) throw new ArgumentException($"{name} has {buffer.Length} elements, needs {atLeast}.", name);
    }
}
