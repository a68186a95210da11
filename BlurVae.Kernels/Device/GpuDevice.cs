using BlurVae.Native;

namespace BlurVae.Kernels.Device;

/// <summary>
/// A device that runs the kernels of kernels.cu: the real GPU through the CUDA driver (<see cref="Cuda.CudaDevice"/>)
/// or the host emulation (<see cref="Emulated.EmulatedDevice"/>). The launchers (GpuDevice.&lt;Family&gt;.cs,
/// mirroring kernels/&lt;family&gt;.cuh) check sizes, choose the launch geometry and call <see cref="Launch"/>; they are
/// written once here, so CI exercises on the emulated device exactly the code that drives a real GPU. Matrix
/// products and FFTs are cuBLAS/cuFFT calls on a GPU and the CPU backend's GEMM/FFT on the emulated device; the
/// row-major-to-cuBLAS mapping and the cuFFT conventions live here too, so they are tested without a GPU.
/// Live allocations are counted, so tests can assert that nothing leaks; so is every stream operation and host
/// wait (<see cref="Counts"/>), here and nowhere else, which is what `blurvae profile` reports per step.
/// </summary>
public abstract partial class GpuDevice : IDisposable
{
    private readonly StreamCounter _counter = new();
    private long _liveAllocations;
    private long _liveBytes;

    /// <summary>"emulated" or the GPU's name, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>Buffers allocated and not yet disposed.</summary>
    public long LiveAllocations => Interlocked.Read(ref _liveAllocations);

    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    /// <summary>The stream operations, host waits and allocations so far; subtract two snapshots (<see cref="DeviceCounts.Minus"/>) for an interval.</summary>
    public DeviceCounts Counts => _counter.Snapshot();

    /// <summary>A device reports each real allocation (not a cache hit) of its <see cref="AllocateBytes"/>.</summary>
    protected void CountAllocation()
    {
        RefuseInCapture("A real device allocation (cuMemAlloc)");
        _counter.Allocation();
    }

    /// <summary>A device reports each wait of the host for the stream that is not one of GpuDevice's own (cache release, timing events).</summary>
    protected void CountHostSync()
    {
        RefuseInCapture("A host wait for the stream");
        _counter.HostSync();
    }

    // ---- what each device provides ----

    /// <summary>At least <paramref name="bytes"/> bytes of device memory, aligned for any element type.</summary>
    protected abstract ulong AllocateBytes(long bytes);

    protected abstract void FreeBytes(ulong pointer, long bytes);

    /// <summary>
    /// Queues the copy of <paramref name="bytes"/> from pinned staging memory (<see cref="AllocateStaging"/>) to the
    /// device, without waiting for it (cuMemcpyHtoDAsync).
    /// </summary>
    protected abstract unsafe void CopyHostToDeviceAsync(ulong destination, void* pinnedSource, long bytes);

    // ---- pinned staging memory for uploads (StagingPool) ----

    private readonly Dictionary<nint, byte[]> _managedStaging = [];

    /// <summary>
    /// Pinned host memory for staging uploads: page-locked memory on a GPU; here a pinned managed array, which is
    /// what a device whose copies are synchronous needs (the emulated and recording devices).
    /// </summary>
    internal protected virtual unsafe nint AllocateStaging(long bytes)
    {
        var array = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        nint host = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        lock (_managedStaging) _managedStaging[host] = array;
        return host;
    }

    internal protected virtual void FreeStaging(nint host, long bytes)
    {
        lock (_managedStaging) _managedStaging.Remove(host);
    }

    /// <summary>A fence to record behind a staged copy (an event on a GPU); null where copies complete before they return.</summary>
    internal protected virtual object? CreateStagingFence() => null;

    internal protected virtual void RecordStagingFence(object fence) { }

    /// <summary>Whether the copies before the fence's last recording are done; never waits.</summary>
    internal protected virtual bool StagingFenceComplete(object fence) => true;

    private StagingPool? _staging;
    private StagingPool Staging => _staging ??= new StagingPool(this);

    /// <summary>Pinned staging blocks made so far: constant once a run's upload sizes have been seen.</summary>
    public int StagingBlocks => _staging?.BlockCount ?? 0;

    /// <summary>Frees the staging blocks; a device calls it once its stream is idle (on disposal).</summary>
    protected void ReleaseStaging()
    {
        _staging?.Dispose();
        _staging = null;
    }

    protected abstract unsafe void CopyDeviceToHost(void* destination, ulong source, long bytes);

    protected abstract void CopyDeviceToDevice(ulong destination, ulong source, long bytes);

    /// <summary>Sets <paramref name="words"/> 32-bit words to <paramref name="value"/> (cuMemsetD32).</summary>
    protected abstract void Memset32(ulong destination, uint value, long words);

    /// <summary>
    /// Launches <paramref name="kernel"/> (by its extern "C" name). Each argument is passed by a pointer to its value,
    /// as cuLaunchKernel's kernelParams; the arrays live on the stack, so a launch allocates nothing. Kernels use
    /// static shared memory only.
    /// </summary>
    public void Launch(string kernel, Dim3 grid, Dim3 block, params ReadOnlySpan<LaunchArg> args) =>
        LaunchWithStruct(kernel, grid, block, [], args);

    /// <summary>The bytes of parameters every CUDA version accepts in one launch (12.1 raised it to 32764 on Volta and newer).</summary>
    public const int MaxParameterBytes = 4096;

    /// <summary>
    /// <see cref="Launch(string, Dim3, Dim3, ReadOnlySpan{LaunchArg})"/> with a struct passed by value as the kernel's
    /// first parameter: <paramref name="leading"/> holds its bytes in the kernel's C layout (empty: no struct). The
    /// parameters together must fit <see cref="MaxParameterBytes"/>.
    /// </summary>
    public unsafe void LaunchWithStruct(string kernel, Dim3 grid, Dim3 block, ReadOnlySpan<byte> leading, params ReadOnlySpan<LaunchArg> args)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        int first = leading.IsEmpty ? 0 : 1;
        int n = first + args.Length;
        // The struct at the front of an 8-byte-aligned area, as the driver lays parameters out; scalars after it.
        int structWords = (leading.Length + 7) / 8;
        if (8L * structWords + 8L * args.Length > MaxParameterBytes)
            throw new ArgumentException($"kernel '{kernel}': {leading.Length} + {8 * args.Length} bytes of parameters exceed the {MaxParameterBytes} a launch may pass.", nameof(leading));
        ulong* values = stackalloc ulong[Math.Max(1, structWords + args.Length)];
        void** pointers = stackalloc void*[Math.Max(1, n)];
        uint* sizes = stackalloc uint[Math.Max(1, n)];
        Span<ulong> restrictValues = stackalloc ulong[Math.Max(1, n)];
        if (first == 1)
        {
            leading.CopyTo(new Span<byte>(values, 8 * structWords));
            pointers[0] = values;
            sizes[0] = (uint)leading.Length;
            restrictValues[0] = 0; // a struct is no pointer parameter
        }
        for (int i = 0; i < args.Length; i++)
        {
            ulong* slot = values + structWords + i;
            *slot = args[i].Bits;
            pointers[first + i] = slot;
            sizes[first + i] = args[i].Size;
            restrictValues[first + i] = args[i].Bits;
        }
        KernelSignatures.CheckNoRestrictAlias(kernel, restrictValues[..n], KernelSignatures.Of(kernel));
        if (_capture is { HostOperations: not null })
        {
            // Recorded with copies of the argument values, which the replay passes again.
            var captured = new CapturedLaunch(kernel, grid, block, new ReadOnlySpan<ulong>(values, structWords + args.Length).ToArray(),
                new ReadOnlySpan<uint>(sizes, n).ToArray(), first == 1 ? structWords : 0);
            Enqueue(captured, static (d, c) => c.Run(d), static c => { });
            return;
        }
        Launch(kernel, grid, block, pointers, sizes, n);
        if (_capture is { } capture) capture.Operations++;
        else _counter.Launch(kernel); // after: a launch the device refused was never queued
    }

    /// <summary>A launch a host capture recorded: the argument values (a leading struct's words first) and their sizes.</summary>
    private sealed record CapturedLaunch(string Kernel, Dim3 Grid, Dim3 Block, ulong[] Values, uint[] Sizes, int StructWords)
    {
        public unsafe void Run(GpuDevice device)
        {
            int n = Sizes.Length;
            void** pointers = stackalloc void*[Math.Max(1, n)];
            fixed (ulong* values = Values)
            fixed (uint* sizes = Sizes)
            {
                int scalars = StructWords > 0 ? 1 : 0;
                if (scalars == 1) pointers[0] = values;
                for (int i = scalars; i < n; i++) pointers[i] = values + StructWords + (i - scalars);
                device.Launch(Kernel, Grid, Block, pointers, sizes, n);
            }
        }
    }

    /// <summary>The device's launch of <paramref name="count"/> kernelParams-style arguments and their byte sizes.</summary>
    protected abstract unsafe void Launch(string kernel, Dim3 grid, Dim3 block, void** args, uint* sizes, int count);

    /// <summary>
    /// cuBLAS's column-major SgemmStridedBatched: C = alpha·op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n, for
    /// <paramref name="batch"/> matrices spaced by the element strides.
    /// </summary>
    protected abstract void SgemmColumnMajor(bool transA, bool transB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch);

    /// <summary>cuFFT R2C over the last two axes: real [batch, h, w] → complex [batch, h, w/2+1], unnormalised.</summary>
    protected abstract void FftRealToComplex(ulong output, ulong input, int batch, int h, int w);

    /// <summary>cuFFT C2R: complex [batch, h, w/2+1] → real [batch, h, w], unnormalised; like cuFFT it may overwrite its input.</summary>
    protected abstract void FftComplexToRealDestroyingInput(ulong output, ulong input, int batch, int h, int w);

    /// <summary>Waits for every queued operation of the stream.</summary>
    protected abstract void WaitForStream();

    /// <summary>Waits for every queued operation (launches are asynchronous on a GPU): a host sync.</summary>
    public void Synchronize()
    {
        RefuseInCapture("A host wait for the stream (Synchronize)");
        _counter.HostSync();
        WaitForStream();
    }

    // ---- memory ----

    /// <summary>
    /// A buffer of <paramref name="length"/> floats: zero-filled (one memset), or, when not <paramref name="zeroed"/>,
    /// of unspecified contents for an output a kernel overwrites completely (<see cref="PoisonUninitialized"/>).
    /// </summary>
    public DeviceMemory Allocate(int length, bool zeroed = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ReleaseDeferred();
        long bytes = BytesOf(length);
        _counter.BufferRequest();
        ulong pointer = AllocateForCapture(bytes);
        if (zeroed) Memset(pointer, 0, bytes / sizeof(float));
        else PoisonUninitialized(pointer, bytes);
        Interlocked.Increment(ref _liveAllocations);
        Interlocked.Add(ref _liveBytes, bytes);
        return new DeviceMemory(this, pointer, length);
    }

    /// <summary>
    /// What an uninitialised allocation holds: nothing is done on a GPU; the emulated device fills it with NaN, so a
    /// kernel that reads an element it was meant to write fails the parity tests. Not a stream operation.
    /// </summary>
    protected virtual void PoisonUninitialized(ulong pointer, long bytes) { }

    internal void Free(ulong pointer, int length)
    {
        FreeBlock(pointer, BytesOf(length));
        Interlocked.Decrement(ref _liveAllocations);
        Interlocked.Add(ref _liveBytes, -BytesOf(length));
    }

    /// <summary>
    /// Frees memory whose owner was finalised. A device whose API must be called on the owning thread (the CUDA
    /// driver needs its context current) overrides this to queue the free for <see cref="ReleaseDeferred"/>.
    /// </summary>
    internal virtual void FreeFromFinalizer(ulong pointer, int length) => Free(pointer, length);

    /// <summary>Frees what finalizers queued; called at every allocation and by <see cref="Synchronize"/>'s callers.</summary>
    public virtual void ReleaseDeferred() { }

    // One element at least: a zero-length buffer still has a distinct, valid address.
    private static long BytesOf(int length) => (long)Math.Max(1, length) * sizeof(float);

    public unsafe void Upload(DeviceMemory dst, ReadOnlySpan<float> src)
    {
        CheckOwned(dst, nameof(dst));
        if (src.Length != dst.Length) throw new ArgumentException($"dst has {dst.Length} elements, the source {src.Length}.", nameof(dst));
        // A capture must not bake a staging block's address into the graph: inputs are refreshed before a replay.
        RefuseInCapture("An upload (host→device copy)");
        // Asynchronous, from a pinned staging block the span is copied into: the caller may reuse its span at once,
        // and the host does not wait for the device (StagingPool).
        long bytes = (long)src.Length * sizeof(float);
        var block = Staging.Take(bytes);
        src.CopyTo(new Span<float>((void*)block.Host, src.Length));
        _counter.CopyHostToDevice();
        CopyHostToDeviceAsync(dst.Pointer, (void*)block.Host, bytes);
        Staging.Return(block);
    }

    public unsafe void Download(DeviceMemory src, Span<float> dst)
    {
        CheckOwned(src, nameof(src));
        if (src.Length != dst.Length) throw new ArgumentException($"src has {src.Length} elements, the destination {dst.Length}.", nameof(src));
        RefuseInCapture("A download (device→host copy, a host wait)");
        _counter.CopyDeviceToHost();
        _counter.HostSync();
        fixed (float* p = dst) CopyDeviceToHost(p, src.Pointer, (long)dst.Length * sizeof(float));
    }

    public float[] Download(DeviceMemory src)
    {
        var result = new float[src.Length];
        Download(src, result);
        return result;
    }

    /// <summary>dst[dstOffset ..+count] = src[srcOffset ..+count].</summary>
    public void Copy(DeviceMemory dst, long dstOffset, DeviceMemory src, long srcOffset, long count)
    {
        CheckOwned(dst, nameof(dst));
        CheckOwned(src, nameof(src));
        CheckRange(dst, dstOffset, count, nameof(dst));
        CheckRange(src, srcOffset, count, nameof(src));
        if (count == 0) return;
        Enqueue((Dst: dst.PointerAt(dstOffset), Src: src.PointerAt(srcOffset), Bytes: count * sizeof(float)),
            static (d, a) => d.CopyDeviceToDevice(a.Dst, a.Src, a.Bytes), static c => c.CopyDeviceToDevice());
    }

    /// <summary>Every element of <paramref name="dst"/> set to <paramref name="value"/>.</summary>
    public void Fill(DeviceMemory dst, float value)
    {
        CheckOwned(dst, nameof(dst));
        if (dst.Length == 0) return;
        Memset(dst.Pointer, BitConverter.SingleToUInt32Bits(value), dst.Length);
    }

    private void Memset(ulong destination, uint value, long words)
    {
        Enqueue((Destination: destination, Value: value, Words: words),
            static (d, a) => d.Memset32(a.Destination, a.Value, a.Words), static c => c.Memset());
    }

    // ---- cuBLAS ----

    /// <summary>
    /// Row-major C = alpha·op(A)·op(B) + beta·C (<see cref="IBackend.Gemm"/>), as the column-major cuBLAS call on the
    /// transposes: a row-major matrix is its transpose column-major, so Cᵀ = op(B)ᵀ·op(A)ᵀ swaps A with B and m with n.
    /// </summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
                     DeviceMemory a, long aOffset, int lda, long strideA,
                     DeviceMemory b, long bOffset, int ldb, long strideB,
                     float beta, DeviceMemory c, long cOffset, int ldc, long strideC, int batch = 1)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative (m={m}, n={n}, k={k}).");
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (lda < Math.Max(1, transA ? m : k)) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be ≥ {(transA ? m : k)}.");
        if (ldb < Math.Max(1, transB ? k : n)) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be ≥ {(transB ? k : n)}.");
        if (ldc < Math.Max(1, n)) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be ≥ {n}.");
        CheckMatrix(a, aOffset, strideA, batch, transA ? k : m, transA ? m : k, lda, nameof(a));
        CheckMatrix(b, bOffset, strideB, batch, transB ? n : k, transB ? k : n, ldb, nameof(b));
        CheckMatrix(c, cOffset, strideC, batch, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        var call = new SgemmCall(transB, transA, n, m, k, alpha, b.PointerAt(bOffset), ldb, strideB, a.PointerAt(aOffset), lda, strideA,
            beta, c.PointerAt(cOffset), ldc, strideC, batch);
        Enqueue(call, static (d, g) => d.SgemmColumnMajor(g.TransA, g.TransB, g.M, g.N, g.K, g.Alpha, g.A, g.Lda, g.StrideA, g.B, g.Ldb, g.StrideB,
            g.Beta, g.C, g.Ldc, g.StrideC, g.Batch), static c => c.Cublas());
    }

    /// <summary>The arguments of one column-major cuBLAS call, as <see cref="SgemmColumnMajor"/> takes them.</summary>
    private readonly record struct SgemmCall(bool TransA, bool TransB, int M, int N, int K, float Alpha, ulong A, int Lda, long StrideA,
        ulong B, int Ldb, long StrideB, float Beta, ulong C, int Ldc, long StrideC, int Batch);

    // ---- cuFFT ----

    /// <summary>y[batch, h, w/2+1, 2] = DFT(x[batch, h, w]), sign −, unnormalised (<see cref="IBackend.Rfft2"/>).</summary>
    public void Rfft2(DeviceMemory y, DeviceMemory x, int batch, int h, int w)
    {
        CheckFft(batch, h, w);
        CheckBuffer(x, (long)batch * h * w, nameof(x));
        CheckBuffer(y, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        if (batch == 0) return;
        Enqueue((Output: y.Pointer, Input: x.Pointer, Batch: batch, H: h, W: w),
            static (d, a) => d.FftRealToComplex(a.Output, a.Input, a.Batch, a.H, a.W), static c => c.Cufft());
    }

    /// <summary>
    /// x[batch, h, w] = inverse DFT of the half spectrum c, sign +, no 1/(hw) (<see cref="IBackend.Irfft2"/>).
    /// cuFFT's C2R overwrites its input: with <paramref name="overwriteInput"/> (the caller's own temporary) it runs on
    /// <paramref name="c"/> itself, otherwise on a scratch copy and <paramref name="c"/> is left as it was.
    /// </summary>
    public void Irfft2(DeviceMemory x, DeviceMemory c, int batch, int h, int w, bool overwriteInput = false)
    {
        CheckFft(batch, h, w);
        long spectrum = (long)batch * h * (w / 2 + 1) * 2;
        CheckBuffer(x, (long)batch * h * w, nameof(x));
        CheckBuffer(c, spectrum, nameof(c));
        if (batch == 0) return;
        using var scratch = overwriteInput ? null : Allocate(checked((int)spectrum), zeroed: false); // overwritten by the copy
        if (scratch is not null) Copy(scratch, 0, c, 0, spectrum);
        Enqueue((Output: x.Pointer, Input: (scratch ?? c).Pointer, Batch: batch, H: h, W: w),
            static (d, a) => d.FftComplexToRealDestroyingInput(a.Output, a.Input, a.Batch, a.H, a.W), static c => c.Cufft());
    }

    private static void CheckFft(int batch, int h, int w)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(w);
    }

    // ---- checks shared by the launchers ----

    private void CheckOwned(DeviceMemory buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Device != this) throw new ArgumentException($"{name} belongs to another device ({buffer.Device.Name}).", name);
    }

    /// <summary>Blocks of <paramref name="blockSize"/> threads covering <paramref name="n"/> elements.</summary>
    private static Dim3 GridFor(int n, int blockSize) => new((uint)((n + blockSize - 1) / blockSize));

    private static void CheckBlockSize(int blockSize, bool multipleOf32 = false)
    {
        if (blockSize < 1 || blockSize > 1024 || (multipleOf32 && blockSize % 32 != 0))
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize,
                multipleOf32 ? "block size must be a multiple of 32 in [32, 1024]" : "block size must be in [1, 1024]");
    }

    private void CheckBuffer(DeviceMemory buffer, long atLeast, string name)
    {
        CheckOwned(buffer, name);
        if (buffer.Length < atLeast) throw new ArgumentException($"{name} has {buffer.Length} elements, needs {atLeast}.", name);
    }

    /// <summary>
    /// The checks of an elementwise launch (one thread per element): count ≥ 0, the block size, and every buffer of this
    /// device holding count elements. Returns whether there is anything to launch.
    /// </summary>
    private bool CheckElementwise(int count, int blockSize, params ReadOnlySpan<(DeviceMemory Buffer, string Name)> buffers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckBlockSize(blockSize);
        CheckBuffers(count, buffers);
        return count > 0;
    }

    /// <summary>Every buffer belongs to this device and holds at least <paramref name="atLeast"/> elements.</summary>
    private void CheckBuffers(long atLeast, params ReadOnlySpan<(DeviceMemory Buffer, string Name)> buffers)
    {
        foreach (var (buffer, name) in buffers) CheckBuffer(buffer, atLeast, name);
    }

    private static void CheckRange(DeviceMemory buffer, long offset, long count, string name)
    {
        if (offset < 0 || count < 0 || offset + count > buffer.Length)
            throw new ArgumentOutOfRangeException(name, $"{name}: elements [{offset}, {offset + count}) outside a buffer of {buffer.Length}.");
    }

    /// <summary>The last element of the last of <paramref name="batch"/> rows×cols matrices (leading dimension ld) lies inside the buffer.</summary>
    private void CheckMatrix(DeviceMemory buffer, long offset, long stride, int batch, int rows, int cols, int ld, string name)
    {
        CheckOwned(buffer, name);
        if (offset < 0 || stride < 0) throw new ArgumentOutOfRangeException(name, $"{name}: negative offset or stride.");
        if (rows == 0 || cols == 0) return;
        long end = offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (end > buffer.Length)
            throw new ArgumentException($"{name}: {batch} matrices of {rows}×{cols} (ld {ld}, stride {stride}) from element {offset} need {end} elements; the buffer has {buffer.Length}.", name);
    }

    public virtual void Dispose()
    {
        ReleaseTicketCounters();
        GC.SuppressFinalize(this);
    }
}
