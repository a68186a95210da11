using System.Runtime.Intrinsics.X86;

namespace BlurVae.Kernels.Cpu;

// col2im of the planes whose every phase is as large as the output plane (input side = stride × output side, as at
// k3 s2 p1 and k4 s2 p1 on even sides). Then phase φ's pixel (n, u, v) receives tap (t, r) from
// column-matrix column n·OH·OW + (OutRow0 + u − t)·OW + OutCol0 + v − r: the phase pixel's own flat index
// f = n·OH·OW + u·OW + v plus a shift that is the same for every pixel. So one channel's phase, across all the
// chunk's images, is a sum of shifted runs of its tap rows: whole SIMD vectors of f, each tap's vector ANDed with a
// mask that clears the lanes whose output pixel lies outside the plane (the masks repeat every OH·OW columns; on
// planes too large for such masks, whose rows are whole vectors, a mask per column and a test per output row).
// The sum per pixel runs in the table path's order (taps in order, from zero); a cleared lane adds +0, which changes
// no sum (a sum from +0 is never −0), so the result is bit-identical to Col2ImPlaneByTable / ByPhases. At stride 2
// across, the two column phases of a row phase fill alternate pixels of the same dx rows: their sum vectors are
// interleaved in registers and stored as whole runs of dx rows (StorePair) instead of lane by lane.
public sealed partial class CpuBackend
{
    /// <summary>Whether col2im may take the shifted-vector path (tests switch it off to compare with the tap table and phase rows).</summary>
    internal static bool Col2ImShiftedPlanes { get; set; } = true;

    /// <summary>Whether g's input gradient ends in the shifted-vector col2im (for tests).</summary>
    internal static bool UsesShiftedCol2Im(ConvGeometry g, DType dtype) =>
        dtype == DType.Float64 ? Conv<double>.UsesShiftedCol2Im(g) : Conv<float>.UsesShiftedCol2Im(g);

    private static partial class Conv<T>
    {
        public static bool UsesShiftedCol2Im(ConvGeometry g) =>
            !DirectConv<T>.SuitsBackwardInput(g) && !UsesPhases(g) && Col2ImPlan.Of(g) is { ByChannel: true };

        /// <summary>
        /// The shifted-vector sums of one plane geometry, for every phase φ: its taps q ∈ [TapStart[φ], TapStart[φ+1])
        /// read column-matrix row TapRow[q] (i·KW + j within the channel) at column f + Shift[q], ANDed with
        /// Masks[q·MaskPeriod + f mod MaskPeriod], where output row u + RowShift[q] exists (u: f's row within its image;
        /// ByRows only); lane f's sum lands at dx offset Offset[φ·Period + f mod Period] from its period's first image
        /// (channel ci). Period = lcm(OH·OW, Vector&lt;T&gt;.Count) columns, a whole number of images, and MaskPeriod =
        /// Period, which covers rows and columns; or, ByRows (Period too long, whole vectors per row), Period = OH·OW
        /// and MaskPeriod = OW, the masks covering columns only.
        /// </summary>
        private sealed class ShiftedPlan
        {
            // The longest period worth whole-plane masks (16 taps × Period elements, 32 KiB in float32, stay in L1):
            // planes up to 32×32 and odd output widths such as 7×7 (period 392); longer ones go ByRows.
            private const int MaxPeriod = 512;

            public bool ByRows { get; private init; }
            public int Period { get; private init; }
            public int MaskPeriod { get; private init; }
            public int[] RowShift { get; private init; } = [];
            public int ImagesPerPeriod { get; private init; }
            public int[] TapStart { get; private init; } = [];
            public int[] TapRow { get; private init; } = [];
            public int[] Shift { get; private init; } = [];
            public T[] Masks { get; private init; } = [];
            public int[] Offset { get; private init; } = [];
            /// <summary>Stride 2 across with runs StorePair can write: dx elements per run of a pair's interleaved vectors (0: lane by lane).</summary>
            public int PairRun { get; private init; }

            /// <summary>The plan (g.InChannels sets the image stride of Offset), or null where a phase is smaller than the
            /// output plane or the period too long for masks with output rows not whole vectors.</summary>
            public static ShiftedPlan? TryBuild(ConvGeometry g)
            {
                int spatial = g.OutH * g.OutW, count = Vector<T>.Count;
                if (g.InH != g.StrideH * g.OutH || g.InW != g.StrideW * g.OutW || spatial == 0) return null;
                int period = spatial / Gcd(spatial, count) * count;
                bool byRows = period > MaxPeriod;
                if (byRows && g.OutW % count != 0) return null;
                if (byRows) period = spatial;
                int maskPeriod = byRows ? g.OutW : period;
                T set = Vector<T>.AllBitsSet[0];
                int phases = ConvPhases.Count(g), imageStride = g.InChannels * g.InH * g.InW;
                var tapStart = new int[phases + 1];
                List<int> tapRow = [], shift = [], rowShift = [];
                List<T> masks = [];
                var offset = new int[phases * period];
                for (int phase = 0; phase < phases; phase++)
                {
                    var ph = ConvPhases.Of(g, phase);
                    for (int f = 0; f < period; f++)
                    {
                        int u = f % spatial / g.OutW, v = f % g.OutW;
                        offset[phase * period + f] = f / spatial * imageStride + (ph.RowStart + g.StrideH * u) * g.InW + ph.ColStart + g.StrideW * v;
                    }
                    for (int t = 0; t < ph.TapRows; t++)
                        for (int r = 0; r < ph.TapCols; r++)
                        {
                            var mask = new T[maskPeriod];
                            bool any = false;
                            for (int f = 0; f < period; f++)
                            {
                                int oh = ph.OutRow0 + f % spatial / g.OutW - t, ow = ph.OutCol0 + f % g.OutW - r;
                                bool valid = (byRows || (uint)oh < (uint)g.OutH) && (uint)ow < (uint)g.OutW;
                                if (f < maskPeriod) mask[f] = valid ? set : T.Zero;
                                any |= valid && (uint)oh < (uint)g.OutH;
                            }
                            if (!any) continue; // a tap no pixel of this plane receives
                            rowShift.Add(byRows ? ph.OutRow0 - t : 0);
                            tapRow.Add((ph.PhaseRow + g.StrideH * t) * g.KernelW + ph.PhaseCol + g.StrideW * r);
                            shift.Add((ph.OutRow0 - t) * g.OutW + ph.OutCol0 - r);
                            masks.AddRange(mask);
                        }
                    tapStart[phase + 1] = tapRow.Count;
                }
                return new ShiftedPlan
                {
                    ByRows = byRows, Period = period, MaskPeriod = maskPeriod, RowShift = rowShift.ToArray(), ImagesPerPeriod = period / spatial, TapStart = tapStart, TapRow = tapRow.ToArray(),
                    Shift = shift.ToArray(), Masks = masks.ToArray(), Offset = offset,
                    PairRun = PairRunOf(g, count),
                };
            }

            // A pair's 2·Count interleaved values are runs of 2·min(OW, Count) consecutive dx pixels (whole dx rows when
            // OW < Count, which must then divide Count); StorePair writes runs of 16 bytes or more, with AVX.
            private static int PairRunOf(ConvGeometry g, int count)
            {
                if (g.StrideW != 2 || !Avx.IsSupported || Vector<byte>.Count != 32) return 0;
                if (g.OutW % count != 0 && count % g.OutW != 0) return 0;
                int run = 2 * Math.Min(g.OutW, count);
                return run * Unsafe.SizeOf<T>() >= 16 ? run : 0;
            }

            private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
        }

        // Channel ci of images n0 … n0+nb−1 (the column matrix's images): every phase by shifted, masked vector sums.
        private static void Col2ImChannelShifted(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int ci, ShiftedPlan sp)
        {
            int count = Vector<T>.Count, period = sp.Period, maskPeriod = sp.MaskPeriod, phases = sp.TapStart.Length - 1;
            int cols = nb * g.OutH * g.OutW, plane = g.InH * g.InW;
            int colBase = ci * g.KernelH * g.KernelW * cols;
            ref T c = ref MemoryMarshal.GetArrayDataReference(col);
            ref T masks = ref MemoryMarshal.GetArrayDataReference(sp.Masks);
            ref int offset = ref MemoryMarshal.GetArrayDataReference(sp.Offset);
            Span<int> reads = stackalloc int[sp.TapRow.Length];
            int minRead = int.MaxValue, maxRead = int.MinValue;
            for (int q = 0; q < reads.Length; q++)
            {
                reads[q] = colBase + sp.TapRow[q] * cols + sp.Shift[q];
                minRead = Math.Min(minRead, reads[q]);
                maxRead = Math.Max(maxRead, reads[q]);
            }
            // Vectors f0 ∈ [safeLo, safeHi] read inside the array (a masked lane may read a neighbouring tap row: its
            // value, whatever it is, ANDs to +0); the others, at most the first and last few of channel 0 and the
            // last channel, go lane by lane, as do the columns of a last vector that is not whole.
            int safeLo = Math.Max(0, -minRead), safeHi = Math.Min(cols, col.Length - maxRead) - count;
            ref int read = ref MemoryMarshal.GetReference(reads);
            ref int rowShift = ref MemoryMarshal.GetArrayDataReference(sp.RowShift);
            uint rows = sp.ByRows ? (uint)g.OutH : 1; // u + RowShift[q] < rows: the tap's output row exists (always 0 < 1 unless ByRows)
            Span<T> lanes = stackalloc T[count];
            int fm = 0, u = 0, mm = 0; // mm: the vector's mask index: fm, or ByRows its first column in output row u
            // The plan's fields in locals: the loops below would reload them per phase.
            bool byRows = sp.ByRows;
            int pairRun = sp.PairRun;
            ref int tapStart = ref MemoryMarshal.GetArrayDataReference(sp.TapStart);
            ref T image = ref dx[(n0 * g.InChannels + ci) * plane]; // the current period's first image, channel ci
            // All phases of a vector's pixels before the next: its images' planes are written whole while in L1 (one
            // phase at a time over all images would revisit every image's lines, Cin·plane apart and so L1-aliased).
            for (int f0 = 0; f0 < cols; f0 += count, fm += count, mm += count)
            {
                if (fm == period)
                {
                    fm = mm = u = 0;
                    image = ref Unsafe.Add(ref image, sp.ImagesPerPeriod * g.InChannels * plane);
                }
                if (!byRows) mm = fm;
                else if (mm == g.OutW) // ByRows: output rows are whole vectors
                {
                    mm = 0;
                    u++;
                }
                if (f0 < safeLo || f0 > safeHi)
                {
                    for (int phase = 0; phase < phases; phase++)
                        for (int e = 0; e < Math.Min(count, cols - f0); e++)
                        {
                            T sum = T.Zero;
                            for (int q = sp.TapStart[phase]; q < sp.TapStart[phase + 1]; q++)
                                if ((uint)(u + Unsafe.Add(ref rowShift, q)) < rows && !T.IsZero(Unsafe.Add(ref masks, q * maskPeriod + mm + e)))
                                    sum += Unsafe.Add(ref c, Unsafe.Add(ref read, q) + f0 + e);
                            Unsafe.Add(ref image, Unsafe.Add(ref offset, phase * period + fm + e)) = sum;
                        }
                    continue;
                }
                for (int phase = 0; phase < phases; phase++)
                {
                    int q0 = Unsafe.Add(ref tapStart, phase), q1 = Unsafe.Add(ref tapStart, phase + 1);
                    var sum = byRows
                        ? PhaseSumByRows(ref c, ref read, ref masks, ref rowShift, q0, q1, maskPeriod, f0, mm, u, rows)
                        : PhaseSum(ref c, ref read, ref masks, q0, q1, maskPeriod, f0, mm);
                    ref int at = ref Unsafe.Add(ref offset, phase * period + fm);
                    if (pairRun > 0)
                    {
                        // Phases φ and φ + 1 share their dx rows, one taking the even pixels: interleave and store runs.
                        int q2 = Unsafe.Add(ref tapStart, phase + 2);
                        var next = byRows
                            ? PhaseSumByRows(ref c, ref read, ref masks, ref rowShift, q1, q2, maskPeriod, f0, mm, u, rows)
                            : PhaseSum(ref c, ref read, ref masks, q1, q2, maskPeriod, f0, mm);
                        ref int atNext = ref Unsafe.Add(ref at, period);
                        if (at < atNext) StorePair(ref image, ref at, sum, next, pairRun);
                        else StorePair(ref image, ref atNext, next, sum, pairRun);
                        phase++;
                        continue;
                    }
                    sum.StoreUnsafe(ref MemoryMarshal.GetReference(lanes));
                    for (int e = 0; e < count; e++) Unsafe.Add(ref image, Unsafe.Add(ref at, e)) = lanes[e];
                }
            }
        }

        // Σ_q (col[read_q + f0 …] AND mask_q[mm …]) over taps q0 … q1−1, in tap order from zero.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<T> PhaseSum(ref T c, ref int read, ref T masks, int q0, int q1, int maskPeriod, int f0, int mm)
        {
            var sum = Vector<T>.Zero;
            for (int q = q0; q < q1; q++)
                sum += Vector.BitwiseAnd(Vector.LoadUnsafe(ref c, (nuint)(Unsafe.Add(ref read, q) + f0)), Vector.LoadUnsafe(ref masks, (nuint)(q * maskPeriod + mm)));
            return sum;
        }

        // PhaseSum over the taps whose output row u + rowShift_q < rows exists (ByRows: the masks cover columns only).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<T> PhaseSumByRows(ref T c, ref int read, ref T masks, ref int rowShift, int q0, int q1, int maskPeriod, int f0, int mm, int u, uint rows)
        {
            var sum = Vector<T>.Zero;
            for (int q = q0; q < q1; q++)
                if ((uint)(u + Unsafe.Add(ref rowShift, q)) < rows)
                    sum += Vector.BitwiseAnd(Vector.LoadUnsafe(ref c, (nuint)(Unsafe.Add(ref read, q) + f0)), Vector.LoadUnsafe(ref masks, (nuint)(q * maskPeriod + mm)));
            return sum;
        }

        // even (pixels 2v) and odd (2v + 1) interleaved, a0 b0 a1 b1 …, written as runs of `run` consecutive dx pixels
        // starting where the even phase's lane run·k/2 lands (at: its offsets for this vector).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StorePair(ref T image, ref int at, Vector<T> even, Vector<T> odd, int run)
        {
            Vector256<T> lo, hi;
            if (typeof(T) == typeof(float))
            {
                Vector256<float> a = even.AsVector256().AsSingle(), b = odd.AsVector256().AsSingle();
                Vector256<float> l = Avx.UnpackLow(a, b), h = Avx.UnpackHigh(a, b);
                lo = Avx.Permute2x128(l, h, 0x20).As<float, T>();
                hi = Avx.Permute2x128(l, h, 0x31).As<float, T>();
            }
            else
            {
                Vector256<double> a = even.AsVector256().AsDouble(), b = odd.AsVector256().AsDouble();
                Vector256<double> l = Avx.UnpackLow(a, b), h = Avx.UnpackHigh(a, b);
                lo = Avx.Permute2x128(l, h, 0x20).As<double, T>();
                hi = Avx.Permute2x128(l, h, 0x31).As<double, T>();
            }
            int count = Vector256<T>.Count;
            if (run >= 2 * count)
            {
                ref T dst = ref Unsafe.Add(ref image, at);
                lo.StoreUnsafe(ref dst);
                hi.StoreUnsafe(ref dst, (nuint)count);
            }
            else if (run == count)
            {
                lo.StoreUnsafe(ref Unsafe.Add(ref image, at));
                hi.StoreUnsafe(ref Unsafe.Add(ref image, Unsafe.Add(ref at, count / 2)));
            }
            else // run == count / 2: 16-byte runs
            {
                lo.GetLower().StoreUnsafe(ref Unsafe.Add(ref image, at));
                lo.GetUpper().StoreUnsafe(ref Unsafe.Add(ref image, Unsafe.Add(ref at, count / 4)));
                hi.GetLower().StoreUnsafe(ref Unsafe.Add(ref image, Unsafe.Add(ref at, count / 2)));
                hi.GetUpper().StoreUnsafe(ref Unsafe.Add(ref image, Unsafe.Add(ref at, 3 * count / 4)));
            }
        }
    }
}
