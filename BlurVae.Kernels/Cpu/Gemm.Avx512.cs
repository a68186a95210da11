// Gemm.Avx512.cs - the AVX-512 micro-kernel of the GEMM (see Gemm.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>12 x (2 x Vector512) tile: 12x32 floats / 12x16 doubles. 12 rows x 2 vectors = 24 accumulators + 2 B
/// vectors fits the 32 zmm registers with room for the broadcast.</summary>
internal readonly unsafe struct Avx512Tile<T> : IGemmTile<T> where T : unmanaged, INumber<T>
{
    public static bool IsSupported => Avx512F.IsSupported;
    public static int MR => 12;
    public static int NR => 2 * Vector512<T>.Count;
    public static bool UsesVector512 => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MulAdd(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(T* c, Vector512<T> v0, Vector512<T> v1, Vector512<T> vbeta, int mode)
    {
        T* c1 = c + Vector512<T>.Count;
        if (mode == GemmMode.Overwrite)
        {
            v0.Store(c);
            v1.Store(c1);
        }
        else if (mode == GemmMode.Add)
        {
            (Vector512.Load(c) + v0).Store(c);
            (Vector512.Load(c1) + v1).Store(c1);
        }
        else
        {
            MulAdd(Vector512.Load(c), vbeta, v0).Store(c);
            MulAdd(Vector512.Load(c1), vbeta, v1).Store(c1);
        }
    }

    /// <summary>12 x (2 x Vector512) tile. Per k step: 2 vector loads of B, 12 broadcasts of A, 24 FMAs;
    /// 24 independent accumulators cover the FMA latency x throughput product (4 cycles x 2 pipes) three times over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<T> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;

        for (int q = 0; q < kc; q++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            Vector512<T> x;
            x = Vector512.Create(a[0]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = MulAdd(x, b0, c60); c61 = MulAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = MulAdd(x, b0, c70); c71 = MulAdd(x, b1, c71);
            x = Vector512.Create(a[8]); c80 = MulAdd(x, b0, c80); c81 = MulAdd(x, b1, c81);
            x = Vector512.Create(a[9]); c90 = MulAdd(x, b0, c90); c91 = MulAdd(x, b1, c91);
            x = Vector512.Create(a[10]); ca0 = MulAdd(x, b0, ca0); ca1 = MulAdd(x, b1, ca1);
            x = Vector512.Create(a[11]); cb0 = MulAdd(x, b0, cb0); cb1 = MulAdd(x, b1, cb1);
            a += 12;
            b += 2 * w;
        }

        var vb = Vector512.Create(beta);
        Store512(c, c00, c01, vb, mode); c += ldc;
        Store512(c, c10, c11, vb, mode); c += ldc;
        Store512(c, c20, c21, vb, mode); c += ldc;
        Store512(c, c30, c31, vb, mode); c += ldc;
        Store512(c, c40, c41, vb, mode); c += ldc;
        Store512(c, c50, c51, vb, mode); c += ldc;
        Store512(c, c60, c61, vb, mode); c += ldc;
        Store512(c, c70, c71, vb, mode); c += ldc;
        Store512(c, c80, c81, vb, mode); c += ldc;
        Store512(c, c90, c91, vb, mode); c += ldc;
        Store512(c, ca0, ca1, vb, mode); c += ldc;
        Store512(c, cb0, cb1, vb, mode);
    }
}
