// Gemm.Avx2.cs - the AVX2+FMA micro-kernel of the GEMM (see Gemm.cs).

using System;
using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace BlurVae.Kernels.Cpu;

internal static unsafe partial class GemmCore<T> where T : unmanaged, INumber<T>
{
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
        if (mode == ModeOverwrite)
        {
            v0.Store(c);
            v1.Store(c1);
        }
        else if (mode == ModeAdd)
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

    /// <summary>6 x (2 x Vector256) tile: 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int q = 0; q < kc; q++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            Vector256<T> x;
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
