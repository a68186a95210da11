using BlurVae.Kernels.Device;
using BlurVae.Native;

namespace BlurVae.Kernels.Emulated;

/// <summary>
/// A CUDA device emulated on the host: memory is aligned native memory and kernels are those of kernels.cu built
/// with g++ (libblurvae_kernels_host.so), launched by name with the same argument array cuLaunchKernel takes.
/// cuBLAS and cuFFT calls go to the CPU backend's GEMM and FFT on that memory. Everything is synchronous.
/// </summary>
public sealed unsafe class EmulatedDevice : GpuDevice
{
    private const nuint Alignment = 64;
    private readonly HostKernelLibrary _library;

    /// <param name="libraryPath">The host kernels library; default: libblurvae_kernels_host.so next to this assembly.</param>
    public EmulatedDevice(string? libraryPath = null)
    {
        _library = HostKernelLibrary.Load(libraryPath ?? DefaultLibraryPath);
    }

    public static string DefaultLibraryPath => Path.Combine(AppContext.BaseDirectory, HostKernelLibrary.FileName);

    public override string Name => "emulated";

    /// <summary>Every kernel the library registers, self-test kernels included.</summary>
    public IReadOnlyList<string> KernelNames => _library.KernelNames();

    // The same caching allocator as the GPU's (BlockCache), so the emulation has the GPU's stable addresses and
    // counts only the allocations a GPU would make: tests assert on them.
    private readonly BlockCache _cache = new();

    protected override ulong AllocateBytes(long bytes)
    {
        long rounded = BlockCache.Rounded(bytes);
        if (_cache.TryTake(rounded, out ulong cached)) return cached;
        CountAllocation();
        return (ulong)NativeMemory.AlignedAlloc((nuint)rounded, Alignment);
    }

    protected override void FreeBytes(ulong pointer, long bytes) => _cache.Return(pointer, BlockCache.Rounded(bytes));

    protected override void PoisonUninitialized(ulong pointer, long bytes) =>
        new Span<float>((void*)pointer, checked((int)(bytes / sizeof(float)))).Fill(float.NaN);

    /// <summary>Bytes held by the caching allocator in free blocks.</summary>
    public long CachedBytes => _cache.CachedBytes;

    /// <summary>Returns every cached free block to the host.</summary>
    public void ReleaseCache() => _cache.Drain(p => NativeMemory.AlignedFree((void*)p));

    public override void Dispose()
    {
        base.Dispose(); // returns the device's workspaces to the cache first
        ReleaseCache();
        ReleaseStaging();
    }

    // Synchronous here, so the staging block is free again as soon as this returns (no fence needed).
    protected override void CopyHostToDeviceAsync(ulong destination, void* source, long bytes) =>
        Buffer.MemoryCopy(source, (void*)destination, bytes, bytes);

    protected override void CopyDeviceToHost(void* destination, ulong source, long bytes) =>
        Buffer.MemoryCopy((void*)source, destination, bytes, bytes);

    protected override void CopyDeviceToDevice(ulong destination, ulong source, long bytes) =>
        Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);

    protected override void Memset32(ulong destination, uint value, long words) =>
        new Span<uint>((void*)destination, checked((int)words)).Fill(value);

    /// <exception cref="EmulatedLaunchException">Unknown kernel, bad configuration or arguments, or a barrier/shuffle mismatch.</exception>
    protected override void Launch(string kernel, Dim3 grid, Dim3 block, void** args, uint* sizes, int count)
    {
        _library.Launch(kernel, grid, block, args, sizes, count);
    }

    // Column-major cuBLAS on a row-major GEMM: a column-major matrix is its transpose row-major, so the call is the
    // same swap of A with B and m with n that GpuDevice.Gemm made (the two swaps are each other's inverse).
    protected override void SgemmColumnMajor(bool transA, bool transB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        // Column-major op(A) is m×k: A is stored as (transA ? m : k) columns of lda, i.e. a row-major (cols × ld) block.
        int aLength = Extent(transA ? m : k, transA ? k : m, lda);
        int bLength = Extent(transB ? k : n, transB ? n : k, ldb);
        int cLength = Extent(n, m, ldc);
        for (int i = 0; i < batch; i++)
        {
            var ai = new ReadOnlySpan<float>((float*)a + i * strideA, aLength);
            var bi = new ReadOnlySpan<float>((float*)b + i * strideB, bLength);
            var ci = new Span<float>((float*)c + i * strideC, cLength);
            Cpu.Gemm.Sgemm(transB, transA, n, m, k, alpha, bi, ldb, ai, lda, beta, ci, ldc, Cpu.Parallelism.MaxThreads);
        }
    }

    // Elements spanned by `columns` column-major columns of `rows` (leading dimension ld): (columns−1)·ld + rows.
    private static int Extent(int columns, int rows, int ld) => columns == 0 || rows == 0 ? 0 : checked((columns - 1) * ld + rows);

    protected override void FftRealToComplex(ulong output, ulong input, int batch, int h, int w) =>
        Cpu.Fft.Rfft2<float>(new Span<float>((void*)output, batch * h * (w / 2 + 1) * 2), new ReadOnlySpan<float>((void*)input, batch * h * w), batch, h, w);

    protected override void FftComplexToRealDestroyingInput(ulong output, ulong input, int batch, int h, int w)
    {
        var spectrum = new Span<float>((void*)input, batch * h * (w / 2 + 1) * 2);
        Cpu.Fft.Irfft2<float>(new Span<float>((void*)output, batch * h * w), spectrum, batch, h, w);
        // cuFFT's C2R may overwrite its input; garble it here so a caller that relied on it fails in CI, not on a GPU.
        spectrum.Fill(float.NaN);
    }

    protected override void WaitForStream() { }
}
