// Gemm.Avx2.cs - the AVX2+FMA micro-kernel of the GEMM (see Gemm.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>6 x (2 x Vector256) tile: 6x16 floats / 6x8 doubles, the classic AVX2 shape for 16 ymm registers.</summary>
internal readonly unsafe struct Avx2Tile<T> : IGemmTile<T> where T : unmanaged, INumber<T>
{
    public static bool IsSupported => Fma.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated;
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;
    public static bool UsesVector512 => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MulAdd(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(T* c, Vector256<T> v0, Vector256<T> v1, Vector256<T> vbeta, int mode)
    {
        T* c1 = c + Vector256<T>.Count;
        if (mode == GemmMode.Overwrite)
        {
            v0.Store(c);
            v1.Store(c1);
        }
        else if (mode == GemmMode.Add)
        {
            (Vector256.Load(c) + v0).Store(c);
            (Vector256.Load(c1) + v1).Store(c1);
        }
        else
        {
            MulAdd(Vector256.Load(c), vbeta, v0).Store(c);
            MulAdd(Vector256.Load(c1), vbeta, v1).Store(c1);
        }
    }

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

        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector256<T> b0, b1, x;
        int q = 0;
        for (; q + 4 <= kc; q += 4)
        {
            b0 = Vector256.Load(b + 0 * w);
            b1 = Vector256.Load(b + 1 * w);
            x = Vector256.Create(a[0]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            b0 = Vector256.Load(b + 2 * w);
            b1 = Vector256.Load(b + 3 * w);
            x = Vector256.Create(a[6]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[7]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[8]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[9]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[10]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[11]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            b0 = Vector256.Load(b + 4 * w);
            b1 = Vector256.Load(b + 5 * w);
            x = Vector256.Create(a[12]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[13]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[14]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[15]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[16]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[17]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            b0 = Vector256.Load(b + 6 * w);
            b1 = Vector256.Load(b + 7 * w);
            x = Vector256.Create(a[18]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[19]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[20]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[21]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[22]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[23]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a += 24;
            b += 8 * w;
        }

        for (; q < kc; q++)
        {
            b0 = Vector256.Load(b + 0 * w);
            b1 = Vector256.Load(b + 1 * w);
            x = Vector256.Create(a[0]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a += 6;
            b += 2 * w;
        }

        var vb = Vector256.Create(beta);
        Store256(c, c00, c01, vb, mode); c += ldc;
        Store256(c, c10, c11, vb, mode); c += ldc;
        Store256(c, c20, c21, vb, mode); c += ldc;
        Store256(c, c30, c31, vb, mode); c += ldc;
        Store256(c, c40, c41, vb, mode); c += ldc;
        Store256(c, c50, c51, vb, mode);
    }
}
