using System.Text.RegularExpressions;
using BlurVae.Kernels.Emulated;
using BlurVae.Native;

namespace BlurVae.Kernels.Device;

/// <summary>
/// A device that runs nothing: every launch is checked as the emulated device checks it (the kernel exists in
/// kernels.cu, argument count and sizes match its parameters, grid and block within CUDA's limits; the host kernels
/// library's blurvae_check_launch) and then only counted and recorded (<see cref="Records"/>), with an estimate of
/// its FLOPs and bytes. Memory is fake: stable, aligned addresses from a bump pointer behind the same caching
/// allocator as <see cref="Cuda.CudaDevice"/> (so <see cref="DeviceCounts.Allocations"/> are the real allocations a
/// GPU would make), no bytes behind them; reads return zeros. A celeba64 step is counted in seconds on a CPU.
/// </summary>
public sealed unsafe partial class RecordingDevice : GpuDevice
{
    private const ulong FirstAddress = 0x7f00_0000_0000; // far from 0, so a null pointer argument stays recognisable
    private const int ConvGeometryFirstArg = 8;         // out, statistics, workspace, stat_partial, counters, a, b, bias, then n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow, splits (kernels/conv.cuh)

    private readonly HostKernelLibrary _library;
    private readonly BlockCache _cache = new();
    private readonly List<(ulong Start, long Bytes)> _blocks = []; // every block ever obtained, by increasing address
    private readonly List<StreamRecord> _records = [];
    private readonly Lock _lock = new();
    private ulong _next = FirstAddress;

    /// <param name="target">The GPU whose SM count and peaks the report compares against.</param>
    /// <param name="libraryPath">The host kernels library whose registry holds the kernels' signatures.</param>
    public RecordingDevice(GpuSpec target, string? libraryPath = null)
    {
        Target = target;
        _library = HostKernelLibrary.Load(libraryPath ?? EmulatedDevice.DefaultLibraryPath);
    }

    public GpuSpec Target { get; }

    public override string Name => $"recording ({Target.Name})";

    /// <summary>Every stream operation so far, in order.</summary>
    public IReadOnlyList<StreamRecord> Records
    {
        get { lock (_lock) return _records.ToArray(); }
    }

    /// <summary>Records from index <paramref name="start"/> on (e.g. <see cref="Records"/>.Count before a step).</summary>
    public IReadOnlyList<StreamRecord> RecordsSince(int start)
    {
        lock (_lock) return _records.GetRange(start, _records.Count - start);
    }

    public int RecordCount
    {
        get { lock (_lock) return _records.Count; }
    }

    private void Record(StreamRecord r)
    {
        lock (_lock) _records.Add(r);
    }

    // ---- fake memory ----

    protected override ulong AllocateBytes(long bytes)
    {
        long rounded = BlockCache.Rounded(bytes);
        if (_cache.TryTake(rounded, out ulong cached)) return cached;
        CountAllocation();
        lock (_lock)
        {
            ulong pointer = _next;
            _next += (ulong)rounded;
            _blocks.Add((pointer, rounded));
            return pointer;
        }
    }

    protected override void FreeBytes(ulong pointer, long bytes) => _cache.Return(pointer, BlockCache.Rounded(bytes));

    protected override void CopyHostToDeviceAsync(ulong destination, void* source, long bytes) =>
        Record(new StreamRecord(StreamOpKind.Copy, "memcpy HtoD", default, default, 0, bytes));

    protected override void CopyDeviceToHost(void* destination, ulong source, long bytes)
    {
        new Span<byte>(destination, checked((int)bytes)).Clear();
        Record(new StreamRecord(StreamOpKind.Copy, "memcpy DtoH", default, default, 0, bytes));
    }

    protected override void CopyDeviceToDevice(ulong destination, ulong source, long bytes) =>
        Record(new StreamRecord(StreamOpKind.Copy, "memcpy DtoD", default, default, 0, 2.0 * bytes));

    protected override void Memset32(ulong destination, uint value, long words) =>
        Record(new StreamRecord(StreamOpKind.Memset, "memset", default, default, 0, 4.0 * words));

    protected override void WaitForStream() { }

    // ---- launches: checked, counted, recorded ----

    /// <exception cref="EmulatedLaunchException">The launch the emulated device (and a GPU) would refuse.</exception>
    protected override void Launch(string kernel, Dim3 grid, Dim3 block, void** args, uint* sizes, int count)
    {
        _library.Launch(kernel, grid, block, args, sizes, count, checkOnly: true);
        Record(new StreamRecord(StreamOpKind.Launch, kernel, grid, block, ConvFlops(kernel, args, count), BytesReferenced(args, sizes, count),
            ConvSplits(kernel, args, count)));
    }

    // The `splits` argument of a convolution GEMM (after the 13 geometry values); 1 for other kernels.
    private static int ConvSplits(string kernel, void** args, int count) =>
        ConvGemmKernel().IsMatch(kernel) && count > ConvGeometryFirstArg + 13 ? *(int*)args[ConvGeometryFirstArg + 13] : 1;

    /// <summary>
    /// 2·N·Cout·OH·OW·Cin·KH·KW, the useful multiply-adds of a convolution pass (structural zeros and split-K slices
    /// counted once), for the implicit-GEMM kernels conv2d_&lt;pass&gt;_&lt;fp32|tf32&gt;_&lt;tile&gt;_kernel of kernels/conv.cuh; 0 for
    /// the rest: elementwise and reduction kernels are bound by memory, which <see cref="BytesReferenced"/> estimates.
    /// </summary>
    private static double ConvFlops(string kernel, void** args, int count)
    {
        // Geometry (GpuDevice.Conv.GeometryArgs): n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow.
        if (!ConvGemmKernel().IsMatch(kernel) || count < ConvGeometryFirstArg + 13) return 0;
        int Arg(int i) => *(int*)args[ConvGeometryFirstArg + i];
        return 2.0 * Arg(0) * Arg(4) * Arg(11) * Arg(12) * Arg(1) * Arg(5) * Arg(6);
    }

    [GeneratedRegex(@"^conv2d_(forward|backward_input|backward_weight)_(fp32|tf32)_\d+x\d+_kernel$")]
    private static partial Regex ConvGemmKernel();

    /// <summary>
    /// Bytes from each pointer argument to the end of its block: every buffer a kernel is given, read or written once.
    /// An estimate (a kernel may touch less of a buffer, or read some of it twice) that needs no per-kernel model.
    /// A struct argument (the multi-tensor Adam's address list) counts every 8-byte word of it that points into a
    /// block; its ints cannot, since fake addresses start far above them.
    /// </summary>
    private double BytesReferenced(void** args, uint* sizes, int count)
    {
        double total = 0;
        lock (_lock)
            for (int i = 0; i < count; i++)
            {
                if (sizes[i] < sizeof(ulong)) continue;
                for (uint word = 0; word + sizeof(ulong) <= sizes[i]; word += sizeof(ulong))
                {
                    ulong pointer = *(ulong*)((byte*)args[i] + word);
                    int at = FindBlock(pointer);
                    if (at >= 0) total += (double)(_blocks[at].Start + (ulong)_blocks[at].Bytes - pointer);
                }
            }
        return total;
    }

    // The block holding `pointer`, by binary search over the increasing start addresses; −1 for none (null).
    private int FindBlock(ulong pointer)
    {
        int lo = 0, hi = _blocks.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_blocks[mid].Start <= pointer) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found >= 0 && pointer < _blocks[found].Start + (ulong)_blocks[found].Bytes ? found : -1;
    }

    protected override void SgemmColumnMajor(bool transA, bool transB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch) =>
        Record(new StreamRecord(StreamOpKind.Cublas, batch == 1 ? "cublasSgemm" : "cublasSgemmStridedBatched", default, default,
            2.0 * m * n * k * batch, 4.0 * ((double)m * k + (double)k * n + (beta == 0 ? 1.0 : 2.0) * m * n) * batch));

    protected override void FftRealToComplex(ulong output, ulong input, int batch, int h, int w) =>
        Record(new StreamRecord(StreamOpKind.Cufft, "cufftExecR2C", default, default, FftFlops(batch, h, w), FftBytes(batch, h, w)));

    protected override void FftComplexToRealDestroyingInput(ulong output, ulong input, int batch, int h, int w) =>
        Record(new StreamRecord(StreamOpKind.Cufft, "cufftExecC2R", default, default, FftFlops(batch, h, w), FftBytes(batch, h, w)));

    // The usual 2.5·N·log2 N for a real transform of N points, per plane.
    private static double FftFlops(int batch, int h, int w) => 2.5 * batch * h * w * Math.Log2((double)h * w);

    private static double FftBytes(int batch, int h, int w) => 4.0 * batch * ((double)h * w + (double)h * (w / 2 + 1) * 2);
}
