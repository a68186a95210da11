namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Square transposes of SIMD registers, in place: rows in, columns out. One network per shape, shared by the FFT's
/// layout changes (Fft.Layout.cs: 8×8 floats, 4×4 doubles) and the GEMM's panel packing (Gemm.Packing.cs: 8×8 and 4×4 floats,
/// 4×4 doubles). Inlined, the refs to the callers' locals fold away and the rows stay in registers.
/// </summary>
internal static class RegisterTranspose
{
    /// <summary>4×4 floats with SSE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(ref Vector128<float> r0, ref Vector128<float> r1, ref Vector128<float> r2, ref Vector128<float> r3)
    {
        var t0 = Sse.UnpackLow(r0, r1);   // r0[0] r1[0] r0[1] r1[1]
        var t1 = Sse.UnpackHigh(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
        var t2 = Sse.UnpackLow(r2, r3);
        var t3 = Sse.UnpackHigh(r2, r3);
        r0 = Sse.MoveLowToHigh(t0, t2);   // r0[0] r1[0] r2[0] r3[0]
        r1 = Sse.MoveHighToLow(t2, t0);   // r0[1] r1[1] r2[1] r3[1]
        r2 = Sse.MoveLowToHigh(t1, t3);
        r3 = Sse.MoveHighToLow(t3, t1);
    }

    /// <summary>4×4 doubles with AVX: unpacks within the 128-bit halves, then the halves exchanged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(ref Vector256<double> r0, ref Vector256<double> r1, ref Vector256<double> r2, ref Vector256<double> r3)
    {
        Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);   // r0[0] r1[0] r0[2] r1[2], r0[1] r1[1] r0[3] r1[3]
        Vector256<double> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        r0 = Avx.Permute2x128(t0, t2, 0x20); r1 = Avx.Permute2x128(t1, t3, 0x20);   // r0[0] r1[0] r2[0] r3[0], r0[1] …
        r2 = Avx.Permute2x128(t0, t2, 0x31); r3 = Avx.Permute2x128(t1, t3, 0x31);
    }

    /// <summary>8×8 floats with AVX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
                                 ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20); r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20); r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31); r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31); r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
