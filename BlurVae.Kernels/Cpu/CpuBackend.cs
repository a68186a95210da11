using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// The pure C# backend: the default where no GPU is present and, in float64, the reference for gradient checks.
/// One partial file per op family (CpuBackend.Elementwise.cs, CpuBackend.Conv.cs, …), each generic over the
/// element type; the public methods only dispatch on the dtype.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    public string Name => "cpu";

    /// <summary>Cores used by the parallel loops and the GEMM (default: all).</summary>
    public static int Threads
    {
        get => Parallelism.MaxThreads;
        set => Parallelism.MaxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "at least one thread");
    }

    /// <summary>Bytes of large arrays the buffers had to take fresh (not recycled) so far: first-touched memory (BlurVae.Bench phases).</summary>
    public static long FreshBufferBytes => ArrayRecycler.FreshBytesTotal;

    /// <summary>Parallel loops that ran on more than one thread so far (BlurVae.Bench phases, bench's counters per step).</summary>
    public static long ParallelLoops => Parallelism.Regions;

    public BackendBuffer Allocate(DType dtype, int length) => new CpuBuffer(this, dtype, length, zeroed: true);

    public BackendBuffer AllocateUninitialized(DType dtype, int length) => new CpuBuffer(this, dtype, length, zeroed: false);

    /// <summary>
    /// Fill <see cref="AllocateUninitialized"/> buffers with NaN (process-wide; the tests turn it on, or
    /// BLURVAE_POISON_UNINITIALIZED=1), so an op that relies on a zero it did not write fails instead of passing.
    /// </summary>
    public static bool PoisonUninitialized { get; set; } = Environment.GetEnvironmentVariable("BLURVAE_POISON_UNINITIALIZED") == "1";

    internal static T[] Arr<T>(BackendBuffer buffer) => buffer is CpuBuffer c
        ? c.As<T>()
        : throw new ArgumentException($"Buffer of backend '{buffer.Backend.Name}' passed to the CPU backend.");

    internal static T[]? ArrOrNull<T>(BackendBuffer? buffer) => buffer is null ? null : Arr<T>(buffer);

    private static bool IsF32(BackendBuffer b) => b.DType == DType.Float32;

    public void Upload(BackendBuffer dst, ReadOnlySpan<float> src)
    {
        ShapeRules.Length(dst, src.Length, nameof(dst));
        if (IsF32(dst)) src.CopyTo(Arr<float>(dst));
        else TensorPrimitives.ConvertChecked<float, double>(src, Arr<double>(dst));
    }

    public void Upload(BackendBuffer dst, ReadOnlySpan<double> src)
    {
        ShapeRules.Length(dst, src.Length, nameof(dst));
        if (IsF32(dst)) TensorPrimitives.ConvertTruncating<double, float>(src, Arr<float>(dst));
        else src.CopyTo(Arr<double>(dst));
    }

    public void Download(BackendBuffer src, Span<float> dst)
    {
        ShapeRules.Length(src, dst.Length, nameof(src));
        if (IsF32(src)) Arr<float>(src).CopyTo(dst);
        else TensorPrimitives.ConvertTruncating<double, float>(Arr<double>(src), dst);
    }

    public void Download(BackendBuffer src, Span<double> dst)
    {
        ShapeRules.Length(src, dst.Length, nameof(src));
        if (IsF32(src)) TensorPrimitives.ConvertChecked<float, double>(Arr<float>(src), dst);
        else Arr<double>(src).CopyTo(dst);
    }

    public void Copy(BackendBuffer dst, BackendBuffer src)
    {
        ShapeRules.Length(dst, src.Length, nameof(dst));
        if (dst.DType != src.DType) throw new ArgumentException("Copy between buffers of different dtypes.");
        Array.Copy(((CpuBuffer)src).Data, ((CpuBuffer)dst).Data, src.Length);
    }

    public void Fill(BackendBuffer dst, double value)
    {
        if (IsF32(dst)) Array.Fill(Arr<float>(dst), (float)value);
        else Array.Fill(Arr<double>(dst), value);
    }
}
