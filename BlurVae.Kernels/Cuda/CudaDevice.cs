using BlurVae.Kernels.Device;
using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// A real GPU through the CUDA driver: the primary context of one device, one stream on which every launch, copy,
/// cuBLAS and cuFFT call is ordered, the embedded kernels.cu compiled by NVRTC (<see cref="PtxCache"/>) and loaded
/// as one module, a cuBLAS handle and cached cuFFT plans.
/// <para>
/// Memory comes from a caching allocator, as in PyTorch: a freed block goes back to a free list of its size and is
/// handed out again, without cuMemFree (which would synchronise the device). Because all work is on one stream, a
/// block reused by a later launch is only touched after every earlier launch that read it. That also makes a free
/// from a finalizer thread safe: it only takes the lock and pushes the block; no driver call.
/// </para>
/// </summary>
public sealed unsafe class CudaDevice : GpuDevice
{
    /// <summary>Set to 1 to synchronise after every launch, so an asynchronous kernel fault names its kernel.</summary>
    public const string SyncVariable = "BLURVAE_CUDA_SYNC";

    private const int OutOfMemory = 2; // CUDA_ERROR_OUT_OF_MEMORY

    private readonly CudaContext _context;
    private readonly CudaStream _stream;
    private readonly CudaModule _module;
    private readonly CublasHandle _cublas;
    private readonly Dictionary<string, (CudaFunction Function, int MaxThreads, int Registers)> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Batch, int H, int W, CufftType Type), CufftPlan> _plans = new();
    private readonly BlockCache _cache = new();
    private readonly HashSet<ulong> _allBlocks = [];
    private readonly Lock _allocatorLock = new();
    private readonly bool _syncEveryLaunch;
    private bool _disposed;

    private CudaDevice(CudaContext context, CudaStream stream, CudaModule module, CublasHandle cublas, PtxCacheEntry ptx, int architecture)
    {
        _context = context;
        _stream = stream;
        _module = module;
        _cublas = cublas;
        Ptx = ptx;
        PtxArchitecture = architecture;
        _syncEveryLaunch = Environment.GetEnvironmentVariable(SyncVariable) == "1";
    }

    /// <summary>
    /// Retains device <paramref name="ordinal"/>'s primary context, compiles (or finds in the cache) the kernels'
    /// PTX for its compute capability — or, on a GPU newer than NVRTC knows, for the newest architecture NVRTC
    /// targets, which the driver JIT-compiles forward — and loads it.
    /// </summary>
    /// <exception cref="CudaException">Any driver, NVRTC, cuBLAS or JIT failure, with the library's own message.</exception>
    /// <exception cref="NotSupportedException">The driver is too old to JIT the PTX NVRTC wrote (<see cref="PtxIsa"/>).</exception>
    /// <exception cref="DllNotFoundException">libnvrtc, libcublas or libcufft could not be found.</exception>
    public static CudaDevice Create(int ordinal = 0)
    {
        var context = CudaContext.Create(ordinal);
        CudaStream? stream = null;
        CudaModule? module = null;
        CublasHandle? cublas = null;
        try
        {
            var (major, minor) = context.ComputeCapability;
            int architecture = PickArchitecture(major * 10 + minor, Nvrtc.SupportedArchitectures());
            var ptx = PtxCache.Lookup(architecture / 10, architecture % 10);
            var (nvrtcMajor, nvrtcMinor) = Nvrtc.Version();
            PtxIsa.EnsureDriverCanJit(ptx.Ptx, PtxIsa.DriverVersion(), $"{nvrtcMajor}.{nvrtcMinor}");
            stream = CudaStream.Create(Driver.StreamNonBlocking);
            module = CudaModule.Load(ptx.Ptx);
            cublas = CublasHandle.Create();
            cublas.SetStream(stream);
            // Plain FP32 GEMMs (no TF32) until Precision says otherwise: the parity suite compares with the CPU
            // backend at float32 tolerances; the application sets --precision (tf32 by default).
            cublas.SetMathMode(Cublas.DefaultMath);
            return new CudaDevice(context, stream, module, cublas, ptx, architecture);
        }
        catch
        {
            cublas?.Dispose();
            module?.Dispose();
            stream?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>The device's own architecture when NVRTC targets it, else the newest one below it that NVRTC targets.</summary>
    public static int PickArchitecture(int deviceArchitecture, IReadOnlyCollection<int> supported)
    {
        if (supported.Contains(deviceArchitecture)) return deviceArchitecture;
        var below = supported.Where(a => a <= deviceArchitecture).ToArray();
        if (below.Length == 0)
            throw new NotSupportedException($"NVRTC targets compute_{string.Join(", compute_", supported)}, none of which runs on a compute_{deviceArchitecture} device.");
        return below.Max();
    }

    public override string Name => _context.Name;

    public override int SmCount => _context.MultiprocessorCount;

    /// <summary>Also cuBLAS's math mode: TF32 tensor ops for <see cref="MathPrecision.Tf32"/>, plain FP32 otherwise.</summary>
    public override MathPrecision Precision
    {
        get => base.Precision;
        set
        {
            EnsureCurrent();
            _cublas.SetMathMode(value == MathPrecision.Tf32 ? Cublas.Tf32TensorOpMath : Cublas.DefaultMath);
            base.Precision = value;
        }
    }

    /// <summary>cudnn.benchmark's rule: each candidate runs once to warm up, then is timed over a few runs with events.</summary>
    protected override ConvAlgorithm? TimeCandidates(IReadOnlyList<ConvAlgorithm> candidates, Action<ConvAlgorithm> run)
    {
        const int repeats = 3;
        EnsureCurrent();
        // The timing waits for the stream: a host sync (inside a graph capture it fails the capture cleanly).
        CountHostSync();
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        ConvAlgorithm? best = null;
        float bestMs = float.MaxValue;
        foreach (var candidate in candidates)
        {
            run(candidate);
            start.Record(_stream);
            for (int i = 0; i < repeats; i++) run(candidate);
            end.Record(_stream);
            end.Synchronize();
            float ms = CudaEvent.ElapsedMilliseconds(start, end);
            if (ms < bestMs) (best, bestMs) = (candidate, ms);
        }
        return best;
    }

    public CudaContext Context => _context;

    /// <summary>The stream every kernel, copy and library call is enqueued on; NCCL's collectives join it.</summary>
    public nint StreamHandle => _stream.Handle;

    /// <summary>The PTX in use and where the cache keeps it.</summary>
    public PtxCacheEntry Ptx { get; }

    /// <summary>compute_XY the PTX was compiled for (XY as an integer).</summary>
    public int PtxArchitecture { get; }

    /// <summary>Bytes held by the caching allocator in free blocks.</summary>
    public long CachedBytes => _cache.CachedBytes;

    // The context must be current on the calling thread; NUnit and the finalizer-free design mean calls can come
    // from different threads, and cuCtxSetCurrent is cheap but not free, so it is done once per thread.
    [ThreadStatic] private static nint _currentOnThread;

    private void EnsureCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_currentOnThread == _context.Handle) return;
        _context.MakeCurrent();
        _currentOnThread = _context.Handle;
    }

    // ---- memory: a caching allocator ----

    protected override ulong AllocateBytes(long bytes)
    {
        long rounded = BlockCache.Rounded(bytes);
        if (_cache.TryTake(rounded, out ulong cached)) return cached;
        EnsureCurrent();
        CountAllocation(); // before the driver call: inside a capture it throws, and nothing is allocated
        ulong pointer;
        int status = Driver.cuMemAlloc_v2(&pointer, (nuint)rounded);
        if (status == OutOfMemory)
        {
            // Give the cached blocks back to the driver and try once more before failing.
            ReleaseCache();
            status = Driver.cuMemAlloc_v2(&pointer, (nuint)rounded);
        }
        Driver.Check(status, $"cuMemAlloc_v2({rounded} bytes)");
        lock (_allocatorLock) _allBlocks.Add(pointer);
        return pointer;
    }

    protected override void FreeBytes(ulong pointer, long bytes) => _cache.Return(pointer, BlockCache.Rounded(bytes));

    /// <summary>Synchronises and returns every cached free block to the driver.</summary>
    public void ReleaseCache()
    {
        EnsureCurrent();
        CountHostSync();
        _stream.Synchronize();
        _cache.Drain(pointer =>
        {
            Driver.Check(Driver.cuMemFree_v2(pointer), "cuMemFree_v2");
            lock (_allocatorLock) _allBlocks.Remove(pointer);
        });
    }

    // The source is a pinned staging block (GpuDevice.Upload), so the copy is a DMA the host does not wait for; the
    // block's event (below) keeps it from being reused before the copy has read it.
    protected override void CopyHostToDeviceAsync(ulong destination, void* source, long bytes)
    {
        EnsureCurrent();
        Driver.Check(Driver.cuMemcpyHtoDAsync_v2(destination, source, (nuint)bytes, _stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    // ---- pinned staging memory: page-locked host blocks, an event behind each copy ----

    private readonly Dictionary<nint, PinnedHostMemory> _pinned = [];

    protected internal override nint AllocateStaging(long bytes)
    {
        EnsureCurrent();
        var memory = PinnedHostMemory.Allocate(bytes);
        lock (_pinned) _pinned[(nint)memory.Pointer] = memory;
        return (nint)memory.Pointer;
    }

    protected internal override void FreeStaging(nint host, long bytes)
    {
        EnsureCurrent();
        PinnedHostMemory? memory;
        lock (_pinned) _pinned.Remove(host, out memory);
        memory?.Dispose();
    }

    protected internal override object? CreateStagingFence()
    {
        EnsureCurrent();
        return CudaEvent.Create(Driver.EventDisableTiming);
    }

    protected internal override void RecordStagingFence(object fence) => ((CudaEvent)fence).Record(_stream);

    protected internal override bool StagingFenceComplete(object fence) => ((CudaEvent)fence).IsComplete;

    protected override void CopyDeviceToHost(void* destination, ulong source, long bytes)
    {
        EnsureCurrent();
        Driver.Check(Driver.cuMemcpyDtoHAsync_v2(destination, source, (nuint)bytes, _stream.Handle), "cuMemcpyDtoHAsync_v2");
        _stream.Synchronize();
    }

    protected override void CopyDeviceToDevice(ulong destination, ulong source, long bytes)
    {
        EnsureCurrent();
        Driver.Check(Driver.cuMemcpyDtoDAsync_v2(destination, source, (nuint)bytes, _stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    protected override void Memset32(ulong destination, uint value, long words)
    {
        EnsureCurrent();
        Driver.Check(Driver.cuMemsetD32Async(destination, value, (nuint)words, _stream.Handle), "cuMemsetD32Async");
    }

    // ---- CUDA graphs: stream capture by the driver ----

    protected override bool CapturesOnTheHost => false;

    private DeviceMemory? _cublasWorkspace;

    /// <summary>
    /// cuBLAS gets a workspace of its own before the first capture (cublasSetWorkspace), so a captured GEMM allocates
    /// nothing inside the capture: 32 MiB on Hopper and newer, 4 MiB before (NVIDIA's recommended sizes). Relaxed
    /// mode: calls on other threads (a finalizer returning memory, which touches no driver API here) are not refused.
    /// </summary>
    protected override void BeginCaptureCore()
    {
        EnsureCurrent();
        if (_cublasWorkspace is null)
        {
            int bytes = (SmCount > 0 && PtxArchitecture >= 90 ? 32 : 4) << 20;
            _cublasWorkspace = Allocate(bytes / sizeof(float), zeroed: false);
            _cublas.SetWorkspace(_cublasWorkspace.Pointer, bytes);
        }
        Driver.Check(Driver.cuStreamBeginCapture_v2(_stream.Handle, Driver.StreamCaptureModeRelaxed), "cuStreamBeginCapture_v2");
    }

    private protected override DeviceGraph EndCaptureCore(GraphMemoryPool pool, long operations)
    {
        EnsureCurrent();
        nint graph = 0, exec = 0;
        Driver.Check(Driver.cuStreamEndCapture(_stream.Handle, &graph), "cuStreamEndCapture");
        int status = Driver.cuGraphInstantiateWithFlags(&exec, graph, 0);
        if (status != 0)
        {
            Driver.cuGraphDestroy(graph);
            throw Driver.Failure(status, "cuGraphInstantiateWithFlags");
        }
        return new CudaGraph(this, pool, operations, graph, exec);
    }

    /// <summary>Ends an abandoned capture; the driver may report it invalidated, and whatever graph it made is destroyed.</summary>
    protected override void AbortCaptureCore()
    {
        EnsureCurrent();
        nint graph = 0;
        Driver.cuStreamEndCapture(_stream.Handle, &graph);
        if (graph != 0) Driver.Check(Driver.cuGraphDestroy(graph), "cuGraphDestroy");
    }

    protected override void ReplayCore(DeviceGraph graph)
    {
        EnsureCurrent();
        Driver.Check(Driver.cuGraphLaunch(((CudaGraph)graph).Exec, _stream.Handle), "cuGraphLaunch");
        if (_syncEveryLaunch)
        {
            CountHostSync();
            Driver.Check(Driver.cuStreamSynchronize(_stream.Handle), $"cuGraphLaunch (synchronised by {SyncVariable}=1)");
        }
    }

    // ---- launches ----

    protected override void Launch(string kernel, Dim3 grid, Dim3 block, void** args, uint* sizes, int count)
    {
        EnsureCurrent();
        if (!_functions.TryGetValue(kernel, out var f))
        {
            var function = _module.GetFunction(kernel);
            var (maxThreads, registers) = function.Limits();
            _functions[kernel] = f = (function, maxThreads, registers);
        }
        LaunchLimits.Check(kernel, block, f.MaxThreads, f.Registers, Name);
        // The driver knows each parameter's size from the PTX; the sizes are the emulation's check only.
        f.Function.Launch(grid, block, 0, _stream, args);
        if (_syncEveryLaunch && !IsCapturing)
        {
            CountHostSync();
            Driver.Check(Driver.cuStreamSynchronize(_stream.Handle), $"{kernel} (synchronised by {SyncVariable}=1)");
        }
    }

    protected override void SgemmColumnMajor(bool transA, bool transB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        EnsureCurrent();
        if (batch == 1) _cublas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else _cublas.SgemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    }

    protected override void FftRealToComplex(ulong output, ulong input, int batch, int h, int w) =>
        Plan(batch, h, w, CufftType.R2C).Execute(input, output);

    protected override void FftComplexToRealDestroyingInput(ulong output, ulong input, int batch, int h, int w) =>
        Plan(batch, h, w, CufftType.C2R).Execute(input, output);

    private CufftPlan Plan(int batch, int h, int w, CufftType type)
    {
        EnsureCurrent();
        if (_plans.TryGetValue((batch, h, w, type), out var plan)) return plan;
        plan = CufftPlan.Create([h, w], batch, type);
        plan.SetStream(_stream);
        _plans[(batch, h, w, type)] = plan;
        return plan;
    }

    protected override void WaitForStream()
    {
        EnsureCurrent();
        _stream.Synchronize();
    }

    /// <summary>Milliseconds of GPU time <paramref name="work"/> takes on this device's stream (events around it).</summary>
    public float Time(Action work)
    {
        EnsureCurrent();
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        start.Record(_stream);
        work();
        end.Record(_stream);
        CountHostSync();
        end.Synchronize();
        return CudaEvent.ElapsedMilliseconds(start, end);
    }

    public override void Dispose()
    {
        if (_disposed) return;
        EnsureCurrent();
        _stream.Synchronize();
        ReleaseStaging();
        _cublasWorkspace?.Dispose();
        foreach (var plan in _plans.Values) plan.Dispose();
        _plans.Clear();
        _cublas.Dispose();
        _module.Dispose();
        lock (_allocatorLock)
        {
            // Live buffers' memory goes with the context too; free everything this allocator ever obtained.
            foreach (var pointer in _allBlocks) Driver.cuMemFree_v2(pointer);
            _allBlocks.Clear();
            _cache.Clear();
        }
        _stream.Dispose();
        _context.Dispose();
        _disposed = true;
        _currentOnThread = 0;
        base.Dispose();
    }
}
