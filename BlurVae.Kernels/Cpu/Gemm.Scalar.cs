// Gemm.Scalar.cs - the portable scalar micro-kernel of the GEMM (see Gemm.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>Portable 4 x 4 scalar tile (16 accumulators) for machines without AVX2/AVX-512: correct everywhere, not fast.</summary>
internal readonly unsafe struct ScalarTile<T> : IGemmTile<T> where T : unmanaged, INumber<T>
{
    public static bool IsSupported => true;
    public static int MR => 4;
    public static int NR => 4;
    public static bool UsesVector512 => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScalar(T* c, T v0, T v1, T v2, T v3, T beta, int mode)
    {
        if (mode == GemmMode.Add)
        {
            v0 += c[0]; v1 += c[1]; v2 += c[2]; v3 += c[3];
        }
        else if (mode == GemmMode.Scale)
        {
            v0 += beta * c[0]; v1 += beta * c[1]; v2 += beta * c[2]; v3 += beta * c[3];
        }
        c[0] = v0; c[1] = v1; c[2] = v2; c[3] = v3;
    }

    public static void Kernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode) => EdgeKernel(4, kc, a, b, c, ldc, beta, mode);

    /// <summary>The tile's first <paramref name="rows"/> rows (all four from <see cref="Kernel"/>).</summary>
    public static void EdgeKernel(int rows, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero, c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero, c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (int q = 0; q < kc; q++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T x = a[0]; c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1]; c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2]; c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3]; c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += 4;
            b += 4;
        }

        StoreScalar(c, c00, c01, c02, c03, beta, mode); if (rows == 1) return; c += ldc;
        StoreScalar(c, c10, c11, c12, c13, beta, mode); if (rows == 2) return; c += ldc;
        StoreScalar(c, c20, c21, c22, c23, beta, mode); if (rows == 3) return; c += ldc;
        StoreScalar(c, c30, c31, c32, c33, beta, mode);
    }
}
