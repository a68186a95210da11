namespace BlurVae.Kernels.Cpu;

// Data movement between layouts: lane padding, transposes (AVX tiles), complex interleave/deinterleave.
public static partial class Fft
{
    private static partial class Engine<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static ref Vector<T> AsVectors(Span<T> s) => ref Unsafe.As<T, Vector<T>>(ref MemoryMarshal.GetReference(s));

        /// <summary>
        /// Zeroes lanes [used, lanes) of every element. The padding lanes are transformed along with the real ones;
        /// left stale they would grow by the transform gain on every call until they overflowed, and arithmetic on
        /// infinities, NaNs or subnormals can be far slower than on ordinary numbers.
        /// </summary>
        private static void ZeroPadLanes(Span<T> re, Span<T> im, int count, int used, int lanes)
        {
            if (used == lanes) return;
            for (int k = 0; k < count; k++)
            {
                re.Slice(k * lanes + used, lanes - used).Clear();
                im.Slice(k * lanes + used, lanes - used).Clear();
            }
        }

        private static void ZeroLane(Span<T> dst, int count, int lane, int lanes)
        {
            for (int n = 0; n < count; n++) dst[n * lanes + lane] = T.Zero;
        }

        /// <summary>dst[c·dstStride + r] = src[r·srcStride + c] for r &lt; rows, c &lt; cols.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Transpose(ReadOnlySpan<T> src, int srcStride, Span<T> dst, int dstStride, int rows, int cols)
        {
            if (rows == 0 || cols == 0) return;
            // The tile kernels index without bounds checks; these two checks cover every access.
            if (src.Length < (long)(rows - 1) * srcStride + cols || dst.Length < (long)(cols - 1) * dstStride + rows)
                throw new InvalidOperationException("Transpose out of range.");
            ref T s = ref MemoryMarshal.GetReference(src);
            ref T d = ref MemoryMarshal.GetReference(dst);
            // Tiles of b×b go through registers (8×8 floats or 4×4 doubles with AVX); edge tiles use masked loads and
            // stores so odd sizes stay vectorised. Scalar transposes cost a load and a store per element and were the
            // largest single cost of the 2-D transform.
            if (Avx.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
            {
                int b = typeof(T) == typeof(float) ? 8 : 4;
                // Walk the side with the longer rows sequentially: that is the caller's tensor, the one least likely to
                // be in cache, and writing it in scattered 32-byte pieces cost ~40% of the inverse at 256×256.
                bool dstMajor = dstStride > srcStride;
                int outer = dstMajor ? cols : rows, inner = dstMajor ? rows : cols;
                for (int o0 = 0; o0 < outer; o0 += b)
                {
                    for (int i0 = 0; i0 < inner; i0 += b)
                    {
                        int r0 = dstMajor ? i0 : o0, c0 = dstMajor ? o0 : i0;
                        int nr = Math.Min(b, rows - r0), nc = Math.Min(b, cols - c0);
                        ref T ts = ref Unsafe.Add(ref s, r0 * srcStride + c0);
                        ref T td = ref Unsafe.Add(ref d, c0 * dstStride + r0);
                        if (typeof(T) == typeof(float))
                        {
                            if ((nr & nc) == 8) Tile8x8(ref Unsafe.As<T, float>(ref ts), srcStride, ref Unsafe.As<T, float>(ref td), dstStride);
                            else Tile8x8Masked(ref Unsafe.As<T, float>(ref ts), srcStride, ref Unsafe.As<T, float>(ref td), dstStride, nr, nc);
                        }
                        else
                        {
                            if ((nr & nc) == 4) Tile4x4(ref Unsafe.As<T, double>(ref ts), srcStride, ref Unsafe.As<T, double>(ref td), dstStride);
                            else Tile4x4Masked(ref Unsafe.As<T, double>(ref ts), srcStride, ref Unsafe.As<T, double>(ref td), dstStride, nr, nc);
                        }
                    }
                }
                return;
            }
            // Without AVX: blocks of 8 rows so both sides stay in a few cache lines.
            for (int r0 = 0; r0 < rows; r0 += 8)
            {
                int r1 = Math.Min(rows, r0 + 8);
                for (int c = 0; c < cols; c++)
                    for (int r = r0; r < r1; r++)
                        Unsafe.Add(ref d, c * dstStride + r) = Unsafe.Add(ref s, r * srcStride + c);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> MaskF(int n) =>
            Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n)).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> MaskD(int n) =>
            Vector256.LessThan(Vector256.Create(0L, 1L, 2L, 3L), Vector256.Create((long)n)).AsDouble();

        /// <summary>Edge tile: nr ≤ 8 source rows of nc ≤ 8 columns. Masked loads never touch memory past the valid
        /// columns (vmaskmov does not fault on masked-off elements); missing rows are zeros, and masked stores write
        /// only the nr valid lanes of each of the nc destination rows.</summary>
        private static unsafe void Tile8x8Masked(ref float s, int ss, ref float d, int ds, int nr, int nc)
        {
            Vector256<float> cm = MaskF(nc), rm = MaskF(nr);
            Span<Vector256<float>> r = stackalloc Vector256<float>[8];
            // Pinned because the masked intrinsics take raw pointers and the workspace arrays can move.
            fixed (float* ps = &s)
            {
                for (int i = 0; i < 8; i++) r[i] = i < nr ? Avx.MaskLoad(ps + i * ss, cm) : Vector256<float>.Zero;
            }
            RegisterTranspose.Transpose(ref r[0], ref r[1], ref r[2], ref r[3], ref r[4], ref r[5], ref r[6], ref r[7]);
            fixed (float* pd = &d)
            {
                for (int c = 0; c < nc; c++) Avx.MaskStore(pd + c * ds, rm, r[c]);
            }
        }

        private static unsafe void Tile4x4Masked(ref double s, int ss, ref double d, int ds, int nr, int nc)
        {
            Vector256<double> cm = MaskD(nc), rm = MaskD(nr);
            Span<Vector256<double>> r = stackalloc Vector256<double>[4];
            fixed (double* ps = &s)
            {
                for (int i = 0; i < 4; i++) r[i] = i < nr ? Avx.MaskLoad(ps + i * ss, cm) : Vector256<double>.Zero;
            }
            RegisterTranspose.Transpose(ref r[0], ref r[1], ref r[2], ref r[3]);
            fixed (double* pd = &d)
            {
                for (int c = 0; c < nc; c++) Avx.MaskStore(pd + c * ds, rm, r[c]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile8x8(ref float s, int ss, ref float d, int ds)
        {
            Vector256<float> r0 = Vector256.LoadUnsafe(ref s), r1 = Vector256.LoadUnsafe(ref s, (nuint)ss);
            Vector256<float> r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss)), r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss));
            Vector256<float> r4 = Vector256.LoadUnsafe(ref s, (nuint)(4 * ss)), r5 = Vector256.LoadUnsafe(ref s, (nuint)(5 * ss));
            Vector256<float> r6 = Vector256.LoadUnsafe(ref s, (nuint)(6 * ss)), r7 = Vector256.LoadUnsafe(ref s, (nuint)(7 * ss));
            RegisterTranspose.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            r0.StoreUnsafe(ref d); r1.StoreUnsafe(ref d, (nuint)ds);
            r2.StoreUnsafe(ref d, (nuint)(2 * ds)); r3.StoreUnsafe(ref d, (nuint)(3 * ds));
            r4.StoreUnsafe(ref d, (nuint)(4 * ds)); r5.StoreUnsafe(ref d, (nuint)(5 * ds));
            r6.StoreUnsafe(ref d, (nuint)(6 * ds)); r7.StoreUnsafe(ref d, (nuint)(7 * ds));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile4x4(ref double s, int ss, ref double d, int ds)
        {
            Vector256<double> r0 = Vector256.LoadUnsafe(ref s), r1 = Vector256.LoadUnsafe(ref s, (nuint)ss);
            Vector256<double> r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss)), r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss));
            RegisterTranspose.Transpose(ref r0, ref r1, ref r2, ref r3);
            r0.StoreUnsafe(ref d); r1.StoreUnsafe(ref d, (nuint)ds);
            r2.StoreUnsafe(ref d, (nuint)(2 * ds)); r3.StoreUnsafe(ref d, (nuint)(3 * ds));
        }

        /// <summary>dst = (re[0], im[0], re[1], im[1], ...).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Interleave(Span<T> dst, ReadOnlySpan<T> re, ReadOnlySpan<T> im)
        {
            if (im.Length < re.Length || dst.Length < 2 * re.Length) throw new InvalidOperationException("Interleave out of range.");
            MovePairs<ToPairs>(ref MemoryMarshal.GetReference(dst), ref MemoryMarshal.GetReference(re), ref MemoryMarshal.GetReference(im), re.Length);
        }

        /// <summary>(re[k], im[k]) = (src[2k], src[2k+1]).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Deinterleave(Span<T> re, Span<T> im, ReadOnlySpan<T> src)
        {
            if (im.Length < re.Length || src.Length < 2 * re.Length) throw new InvalidOperationException("Deinterleave out of range.");
            MovePairs<FromPairs>(ref MemoryMarshal.GetReference(src), ref MemoryMarshal.GetReference(re), ref MemoryMarshal.GetReference(im), re.Length);
        }

        /// <summary>Moves n complex numbers between interleaved pairs and two planes, in the direction TMove gives:
        /// whole vectors (Zip/Unzip) where AVX has them, then the tail one by one.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void MovePairs<TMove>(ref T pairs, ref T re, ref T im, int n) where TMove : struct, IPairMove
        {
            int k = 0, v = Vector256<T>.Count;
            if (HasAvxPairs)
                for (; k + v <= n; k += v) TMove.Vectors(ref pairs, ref re, ref im, k);
            for (; k < n; k++) TMove.One(ref pairs, ref re, ref im, k);
        }

        private interface IPairMove
        {
            /// <summary>The Vector256&lt;T&gt;.Count numbers from k.</summary>
            static abstract void Vectors(ref T pairs, ref T re, ref T im, int k);
            static abstract void One(ref T pairs, ref T re, ref T im, int k);
        }

        private readonly struct ToPairs : IPairMove
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Vectors(ref T pairs, ref T re, ref T im, int k)
            {
                var (lo, hi) = Zip(Vector256.LoadUnsafe(ref re, (nuint)k), Vector256.LoadUnsafe(ref im, (nuint)k));
                lo.StoreUnsafe(ref pairs, (nuint)(2 * k));
                hi.StoreUnsafe(ref pairs, (nuint)(2 * k + Vector256<T>.Count));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void One(ref T pairs, ref T re, ref T im, int k)
            {
                Unsafe.Add(ref pairs, 2 * k) = Unsafe.Add(ref re, k);
                Unsafe.Add(ref pairs, 2 * k + 1) = Unsafe.Add(ref im, k);
            }
        }

        private readonly struct FromPairs : IPairMove
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Vectors(ref T pairs, ref T re, ref T im, int k)
            {
                var (even, odd) = Unzip(Vector256.LoadUnsafe(ref pairs, (nuint)(2 * k)), Vector256.LoadUnsafe(ref pairs, (nuint)(2 * k + Vector256<T>.Count)));
                even.StoreUnsafe(ref re, (nuint)k);
                odd.StoreUnsafe(ref im, (nuint)k);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void One(ref T pairs, ref T re, ref T im, int k)
            {
                Unsafe.Add(ref re, k) = Unsafe.Add(ref pairs, 2 * k);
                Unsafe.Add(ref im, k) = Unsafe.Add(ref pairs, 2 * k + 1);
            }
        }

        private static bool HasAvxPairs => Avx.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

        /// <summary>(x0, y0, x1, y1, …) of two vectors, as two vectors (AVX unpacks work within 128-bit halves, so
        /// the halves are put back in order after them).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<T> Lo, Vector256<T> Hi) Zip(Vector256<T> x, Vector256<T> y)
        {
            if (typeof(T) == typeof(float))
            {
                Vector256<float> lo = Avx.UnpackLow(x.AsSingle(), y.AsSingle()), hi = Avx.UnpackHigh(x.AsSingle(), y.AsSingle());
                return (Avx.Permute2x128(lo, hi, 0x20).As<float, T>(), Avx.Permute2x128(lo, hi, 0x31).As<float, T>());
            }
            Vector256<double> dlo = Avx.UnpackLow(x.AsDouble(), y.AsDouble()), dhi = Avx.UnpackHigh(x.AsDouble(), y.AsDouble());
            return (Avx.Permute2x128(dlo, dhi, 0x20).As<double, T>(), Avx.Permute2x128(dlo, dhi, 0x31).As<double, T>());
        }

        /// <summary>The inverse of <see cref="Zip"/>: the even and the odd elements of (lo, hi).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<T> Even, Vector256<T> Odd) Unzip(Vector256<T> lo, Vector256<T> hi)
        {
            if (typeof(T) == typeof(float))
            {
                Vector256<float> p = Avx.Permute2x128(lo.AsSingle(), hi.AsSingle(), 0x20), q = Avx.Permute2x128(lo.AsSingle(), hi.AsSingle(), 0x31);
                return (Avx.Shuffle(p, q, 0x88).As<float, T>(), Avx.Shuffle(p, q, 0xDD).As<float, T>());
            }
            Vector256<double> dp = Avx.Permute2x128(lo.AsDouble(), hi.AsDouble(), 0x20), dq = Avx.Permute2x128(lo.AsDouble(), hi.AsDouble(), 0x31);
            return (Avx.UnpackLow(dp, dq).As<double, T>(), Avx.UnpackHigh(dp, dq).As<double, T>());
        }
    }
}
