// Gemm.Avx512.cs - the AVX-512 micro-kernel of the GEMM (see Gemm.cs; its rows: Gemm.Vectors.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>12 x (2 x Vector512) tile: 12x32 floats / 12x16 doubles. 12 rows x 2 vectors = 24 accumulators + 2 B
/// vectors fits the 32 zmm registers with room for the broadcast.</summary>
internal readonly unsafe struct Avx512Tile<T> : IGemmTile<T> where T : unmanaged, INumber<T>
{
    public static bool IsSupported => Avx512F.IsSupported;
    public static int MR => 12;
    public static int NR => 2 * Vector512<T>.Count;
    public static bool UsesVector512 => true;

    /// <summary>12 x (2 x Vector512) tile, as two blocks of six rows sharing each k step's B vectors. Per k step: 2
    /// vector loads of B, 12 broadcasts of A, 24 FMAs; 24 independent accumulators cover the FMA latency x throughput
    /// product (4 cycles x 2 pipes) three times over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector512<T>.Count;
        RowBlock<T, Vector512<T>, Vector512Ops<T>, Six> top = default, bottom = default;
        for (int q = 0; q < kc; q++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            top.Step(a, 0, b0, b1);
            bottom.Step(a, 6, b0, b1);
            a += 12;
            b += 2 * w;
        }
        top.Store(c, ldc, beta, mode);
        bottom.Store(c + 6 * ldc, ldc, beta, mode);
    }

    /// <summary>The tile's first <paramref name="rows"/> (&lt; 12) rows, in the fewest row blocks that hold them.</summary>
    public static void EdgeKernel(int rows, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode) =>
        EdgeTile<T, Vector512<T>, Vector512Ops<T>>.Rows(rows, 12, kc, a, b, c, ldc, beta, mode);
}
