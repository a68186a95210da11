// Gemm.Avx2.cs - the AVX2+FMA micro-kernel of the GEMM (see Gemm.cs; its rows: Gemm.Vectors.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>6 x (2 x Vector256) tile: 6x16 floats / 6x8 doubles, the classic AVX2 shape for 16 ymm registers.</summary>
internal readonly unsafe struct Avx2Tile<T> : IGemmTile<T> where T : unmanaged, INumber<T>
{
    public static bool IsSupported => Fma.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated;
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;
    public static bool UsesVector512 => false;

    /// <summary>
    /// 6 x (2 x Vector256) tile: 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers. Per k step
    /// 12 FMAs against 8 loads (2 B vectors, 6 broadcasts), so with 2 FMA pipes the loop needs ~25 uops in 6
    /// cycles: loop overhead is what is left to cut, hence four k steps per iteration. The C tile is prefetched
    /// before the loop so its (read-for-)write at the end does not stall on memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector256<T>.Count;
        if (Sse.IsSupported)
        {
            for (int r = 0; r < 6; r++)
            {
                Sse.Prefetch0(c + r * ldc);
                Sse.Prefetch0(c + r * ldc + 2 * w - 1);
            }
        }

        RowBlock<T, Vector256<T>, Vector256Ops<T>, Six> rows = default;
        int q = 0;
        for (; q + 4 <= kc; q += 4)
        {
            rows.Step(a, 0, Vector256.Load(b), Vector256.Load(b + w));
            rows.Step(a, 6, Vector256.Load(b + 2 * w), Vector256.Load(b + 3 * w));
            rows.Step(a, 12, Vector256.Load(b + 4 * w), Vector256.Load(b + 5 * w));
            rows.Step(a, 18, Vector256.Load(b + 6 * w), Vector256.Load(b + 7 * w));
            a += 24;
            b += 8 * w;
        }
        for (; q < kc; q++)
        {
            rows.Step(a, 0, Vector256.Load(b), Vector256.Load(b + w));
            a += 6;
            b += 2 * w;
        }
        rows.Store(c, ldc, beta, mode);
    }

    /// <summary>The tile's first <paramref name="rows"/> (&lt; 6) rows: four when they fit, else six.</summary>
    public static void EdgeKernel(int rows, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode) =>
        EdgeTile<T, Vector256<T>, Vector256Ops<T>>.Rows(rows, 6, kc, a, b, c, ldc, beta, mode);
}
