// Gemm.Packing.cs - packing op(A) and op(B) into the micro-panels the micro-kernels read (see Gemm.cs).


namespace BlurVae.Kernels.Cpu;

internal static unsafe partial class GemmCore<T, TTile> where T : unmanaged, INumber<T> where TTile : struct, IGemmTile<T>
{
    // ------------------------------------------------------------------ packing
    //
    // Both operands are packed into "panels" of R interleaved vectors (R = MR for A, NR for B): element (q, i) of a
    // panel, q along k and i across the panel, lives at [q*R + i]. Depending on the transpose flag the R source
    // vectors are either contiguous for each q (a plain strided copy) or each source vector is contiguous along q
    // (a transpose, done in 8x8 and 4x4 register blocks). Lanes past the matrix edge are zero-filled so the micro-kernel
    // can always compute full tiles.

    /// <summary>Packs alpha * op(A)[row0.., col0..] (mc x kc) into MR-tall micro-panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, T* a, nint lda, int row0, int col0, int mc, int kc, T alpha, T* dst)
    {
        int mr = MR;
        bool scale = alpha != T.One;
        if (transA)
        {
            CopyPanels(a + col0 * lda + row0, lda, mc, kc, dst, mr, alpha, scale); // A is k x m
            return;
        }
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            TransposePanel(a + (row0 + ir) * lda + col0, lda, rows, kc, dst, mr, alpha, scale); // A is m x k
            dst += mr * kc;
        }
    }

    /// <summary>Packs op(B)[row0.., col0..] (kc x nc) into NR-wide micro-panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transB, T* b, nint ldb, int row0, int col0, int kc, int nc, T* dst)
    {
        int nr = NR;
        if (!transB)
        {
            CopyPanels(b + row0 * ldb + col0, ldb, nc, kc, dst, nr, T.One, false); // B is k x n
            return;
        }
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            TransposePanel(b + (col0 + jr) * ldb + row0, ldb, cols, kc, dst, nr, T.One, false); // B is n x k
            dst += nr * kc;
        }
    }

    /// <summary>Step of k rows per pass of <see cref="CopyPanels"/>.</summary>
    private const int CopyRows = 8;

    /// <summary>
    /// Packs every panel of a block whose source rows (q) are contiguous across the panels: a few k rows at a time
    /// across all the panels, rather than one panel down all kc rows. Panel by panel, each k step read a new cache
    /// line (or two) from a row ld apart, and with a power-of-two ld all those lines fall in the same L1 set, so an
    /// A panel of 12 floats re-fetched from L2 the line its neighbour had just read; row by row, the reads are a few
    /// sequential streams and every line is used up while it is in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPanels(T* src, nint ld, int count, int kc, T* dst, int r, T alpha, bool scale)
    {
        for (int q0 = 0; q0 < kc; q0 += CopyRows)
        {
            int rows = Math.Min(CopyRows, kc - q0);
            T* d = dst + q0 * r;
            for (int i = 0; i < count; i += r)
            {
                CopyPanel(src + q0 * ld + i, ld, Math.Min(r, count - i), rows, d, r, alpha, scale);
                d += (nint)r * kc;
            }
        }
    }

    /// <summary>dst[q*R + i] = s * src[q*ld + i] for i &lt; count (zero for count &lt;= i &lt; R), q &lt; kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPanel(T* src, nint ld, int count, int kc, T* dst, int r, T alpha, bool scale)
    {
        if (count == r && !scale)
        {
            for (int q = 0; q < kc; q++) CopyFull(src + q * ld, dst + q * r, r);
            return;
        }

        for (int q = 0; q < kc; q++)
        {
            T* s = src + q * ld;
            T* d = dst + q * r;
            int i = 0;
            if (scale) for (; i < count; i++) d[i] = alpha * s[i];
            else for (; i < count; i++) d[i] = s[i];
            for (; i < r; i++) d[i] = T.Zero;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFull(T* s, T* d, int r)
    {
        int i = 0;
        if (TTile.UsesVector512)
        {
            for (; i + Vector512<T>.Count <= r; i += Vector512<T>.Count) Vector512.Load(s + i).Store(d + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<T>.Count <= r; i += Vector256<T>.Count) Vector256.Load(s + i).Store(d + i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + Vector128<T>.Count <= r; i += Vector128<T>.Count) Vector128.Load(s + i).Store(d + i);
        }
        for (; i < r; i++) d[i] = s[i];
    }

    /// <summary>dst[q*R + i] = s * src[i*ld + q] for i &lt; count (zero for count &lt;= i &lt; R), q &lt; kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposePanel(T* src, nint ld, int count, int kc, T* dst, int r, T alpha, bool scale)
    {
        // Blocks of source vectors at a time, a register transpose per block of k steps: reads stay sequential in
        // 8 (or 4) streams and each store writes 8 (or 4) consecutive panel lanes. 8x8 floats take 3 shuffles per
        // row where 4x4 take 2 for half the row: a quarter fewer shuffles per element, and half as many stores.
        int i = 0;
        if (CanTranspose8)
        {
            for (; i + 8 <= count; i += 8)
            {
                T* s = src + i * ld;
                T* d = dst + i;
                int q = 0;
                for (; q + 8 <= kc; q += 8) Transpose8((float*)(s + q), ld, (float*)(d + q * r), r, alpha, scale);
                for (; q < kc; q++) CopyColumn(s + q, ld, 8, d + q * r, alpha, scale);
            }
        }
        if (CanTranspose4)
        {
            for (; i + 4 <= count; i += 4)
            {
                T* s = src + i * ld;
                T* d = dst + i;
                int q = 0;
                for (; q + 4 <= kc; q += 4) Transpose4(s + q, ld, d + q * r, r, alpha, scale);
                for (; q < kc; q++) CopyColumn(s + q, ld, 4, d + q * r, alpha, scale);
            }
        }

        for (; i < count; i++)
        {
            T* s = src + i * ld;
            if (scale) for (int q = 0; q < kc; q++) dst[q * r + i] = alpha * s[q];
            else for (int q = 0; q < kc; q++) dst[q * r + i] = s[q];
        }

        if (count < r)
        {
            for (int q = 0; q < kc; q++)
                for (int z = count; z < r; z++) dst[q * r + z] = T.Zero;
        }
    }

    /// <summary>d[i] = (alpha ·) s[i*ld] for i &lt; rows: one k step of a block's transpose, where a whole block does not fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyColumn(T* s, nint ld, int rows, T* d, T alpha, bool scale)
    {
        if (scale) for (int i = 0; i < rows; i++) d[i] = alpha * s[i * ld];
        else for (int i = 0; i < rows; i++) d[i] = s[i * ld];
    }

    private static bool CanTranspose8 => typeof(T) == typeof(float) && Avx.IsSupported;

    /// <summary>Transposes the 8x8 float block s[i*ld + q] (i, q &lt; 8) into d[q*dstride + i], optionally scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(float* s, nint ld, float* d, nint dstride, T alpha, bool scale)
    {
        Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + ld), r2 = Avx.LoadVector256(s + 2 * ld), r3 = Avx.LoadVector256(s + 3 * ld);
        Vector256<float> r4 = Avx.LoadVector256(s + 4 * ld), r5 = Avx.LoadVector256(s + 5 * ld), r6 = Avx.LoadVector256(s + 6 * ld), r7 = Avx.LoadVector256(s + 7 * ld);
        RegisterTranspose.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        float a = Unsafe.As<T, float>(ref alpha);
        StoreColumns<Vector256<float>, float, Vector256Ops<float>>(r0, r1, r2, r3, d, dstride, a, scale);
        StoreColumns<Vector256<float>, float, Vector256Ops<float>>(r4, r5, r6, r7, d + 4 * dstride, dstride, a, scale);
    }

    private static bool CanTranspose4 => typeof(T) == typeof(float) ? Sse.IsSupported : typeof(T) == typeof(double) && Avx.IsSupported;

    /// <summary>Transposes the 4x4 block s[i*ld + q] (i, q &lt; 4) into d[q*dstride + i], optionally scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(T* s, nint ld, T* d, nint dstride, T alpha, bool scale)
    {
        if (typeof(T) == typeof(float))
        {
            float* fs = (float*)s;
            Vector128<float> r0 = Sse.LoadVector128(fs), r1 = Sse.LoadVector128(fs + ld), r2 = Sse.LoadVector128(fs + 2 * ld), r3 = Sse.LoadVector128(fs + 3 * ld);
            RegisterTranspose.Transpose(ref r0, ref r1, ref r2, ref r3);
            StoreColumns<Vector128<float>, float, Vector128Ops<float>>(r0, r1, r2, r3, (float*)d, dstride, Unsafe.As<T, float>(ref alpha), scale);
        }
        else if (typeof(T) == typeof(double))
        {
            double* ds = (double*)s;
            Vector256<double> r0 = Avx.LoadVector256(ds), r1 = Avx.LoadVector256(ds + ld), r2 = Avx.LoadVector256(ds + 2 * ld), r3 = Avx.LoadVector256(ds + 3 * ld);
            RegisterTranspose.Transpose(ref r0, ref r1, ref r2, ref r3);
            StoreColumns<Vector256<double>, double, Vector256Ops<double>>(r0, r1, r2, r3, (double*)d, dstride, Unsafe.As<T, double>(ref alpha), scale);
        }
    }

    /// <summary>d[q*dstride ..] = (alpha ·) oq for q &lt; 4: the transposed block into four panel rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns<TV, TE, TOps>(TV o0, TV o1, TV o2, TV o3, TE* d, nint dstride, TE alpha, bool scale)
        where TV : struct where TE : unmanaged, INumber<TE> where TOps : struct, IVectorOps<TV, TE>
    {
        if (scale)
        {
            var va = TOps.Broadcast(alpha);
            o0 = TOps.Multiply(o0, va); o1 = TOps.Multiply(o1, va); o2 = TOps.Multiply(o2, va); o3 = TOps.Multiply(o3, va);
        }
        TOps.Store(o0, d);
        TOps.Store(o1, d + dstride);
        TOps.Store(o2, d + 2 * dstride);
        TOps.Store(o3, d + 3 * dstride);
    }
}
