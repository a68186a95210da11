namespace BlurVae.Kernels.Cpu;

// col2im of the small planes (the deep layers' 2×2 … 16×16, whose phase rows of 1–8 pixels are too short for
// Col2ImPlaneByPhases' vectors) when every phase is as large as the output plane (input side = stride × output
// side, as at k3 s2 p1 and k4 s2 p1 on even sides). Then phase φ's pixel (n, u, v) receives tap (t, r) from
// column-matrix column n·OH·OW + (OutRow0 + u − t)·OW + OutCol0 + v − r: the phase pixel's own flat index
// f = n·OH·OW + u·OW + v plus a shift that is the same for every pixel. So one channel's phase, across all the
// chunk's images, is a sum of shifted runs of its tap rows: whole SIMD vectors of f, each tap's vector ANDed with a
// mask that clears the lanes whose output pixel lies outside the plane (the masks repeat every OH·OW columns).
// The sum per pixel runs in the table path's order (taps in order, from zero); a cleared lane adds +0, which changes
// no sum (a sum from +0 is never −0), so the result is bit-identical to Col2ImPlaneByTable.
public sealed partial class CpuBackend
{
    /// <summary>Whether col2im may take the shifted-vector path for small planes (tests switch it off to compare with the tap table).</summary>
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
        /// Masks[q·Period + f mod Period]; lane f's sum lands on image Image[f mod Period] (within the period's images)
        /// at plane offset Pixel[φ·Period + f mod Period].
        /// </summary>
        private sealed class ShiftedPlan
        {
            // The largest period whose tables are worth building (masks of 16 taps × Period elements).
            private const int MaxPeriod = 1024;

            public int Period { get; private init; }
            public int ImagesPerPeriod { get; private init; }
            public int[] TapStart { get; private init; } = [];
            public int[] TapRow { get; private init; } = [];
            public int[] Shift { get; private init; } = [];
            public T[] Masks { get; private init; } = [];
            public int[] Image { get; private init; } = [];
            public int[] Pixel { get; private init; } = [];
            /// <summary>The smallest and largest shift over all taps: a vector at f0 reads columns f0 + MinShift … f0 + Count − 1 + MaxShift.</summary>
            public int MinShift { get; private init; }
            public int MaxShift { get; private init; }

            /// <summary>The plan, or null where a phase is smaller than the output plane or the period is too long.</summary>
            public static ShiftedPlan? TryBuild(ConvGeometry g)
            {
                int spatial = g.OutH * g.OutW, count = Vector<T>.Count;
                if (g.InH != g.StrideH * g.OutH || g.InW != g.StrideW * g.OutW || spatial == 0) return null;
                int period = spatial / Gcd(spatial, count) * count;
                if (period > MaxPeriod) return null;
                T set = Vector<T>.AllBitsSet[0];
                var tapStart = new int[ConvPhases.Count(g) + 1];
                List<int> tapRow = [], shift = [];
                List<T> masks = [];
                var pixel = new int[ConvPhases.Count(g) * period];
                var image = new int[period];
                for (int f = 0; f < period; f++) image[f] = f / spatial;
                for (int phase = 0; phase < tapStart.Length - 1; phase++)
                {
                    var ph = ConvPhases.Of(g, phase);
                    for (int f = 0; f < period; f++)
                    {
                        int u = f % spatial / g.OutW, v = f % g.OutW;
                        pixel[phase * period + f] = (ph.RowStart + g.StrideH * u) * g.InW + ph.ColStart + g.StrideW * v;
                    }
                    for (int t = 0; t < ph.TapRows; t++)
                        for (int r = 0; r < ph.TapCols; r++)
                        {
                            var mask = new T[period];
                            bool any = false;
                            for (int f = 0; f < period; f++)
                            {
                                int oh = ph.OutRow0 + f % spatial / g.OutW - t, ow = ph.OutCol0 + f % g.OutW - r;
                                bool valid = (uint)oh < (uint)g.OutH && (uint)ow < (uint)g.OutW;
                                mask[f] = valid ? set : T.Zero;
                                any |= valid;
                            }
                            if (!any) continue; // a tap no pixel of this plane receives
                            tapRow.Add((ph.PhaseRow + g.StrideH * t) * g.KernelW + ph.PhaseCol + g.StrideW * r);
                            shift.Add((ph.OutRow0 - t) * g.OutW + ph.OutCol0 - r);
                            masks.AddRange(mask);
                        }
                    tapStart[phase + 1] = tapRow.Count;
                }
                return new ShiftedPlan
                {
                    Period = period, ImagesPerPeriod = period / spatial, TapStart = tapStart, TapRow = tapRow.ToArray(),
                    Shift = shift.ToArray(), Masks = masks.ToArray(), Image = image, Pixel = pixel,
                    MinShift = shift.Count == 0 ? 0 : shift.Min(), MaxShift = shift.Count == 0 ? 0 : shift.Max(),
                };
            }

            private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
        }

        // Channel ci of images n0 … n0+nb−1 (the column matrix's images): every phase by shifted, masked vector sums.
        private static void Col2ImChannelShifted(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int ci, ShiftedPlan sp)
        {
            int count = Vector<T>.Count, period = sp.Period;
            int cols = nb * g.OutH * g.OutW, plane = g.InH * g.InW, imageStride = g.InChannels * plane;
            int colBase = ci * g.KernelH * g.KernelW * cols;
            // Vectors f0 ∈ [safeLo, safeHi] read inside the channel's tap rows; the others (the first and last few) go lane by lane.
            int safeLo = Math.Max(0, -sp.MinShift), safeHi = cols - count - Math.Max(0, sp.MaxShift);
            ref T c = ref MemoryMarshal.GetArrayDataReference(col);
            ref T d = ref MemoryMarshal.GetArrayDataReference(dx);
            ref T masks = ref MemoryMarshal.GetArrayDataReference(sp.Masks);
            Span<int> reads = stackalloc int[sp.TapRow.Length];
            for (int q = 0; q < reads.Length; q++) reads[q] = colBase + sp.TapRow[q] * cols + sp.Shift[q];
            Span<T> lanes = stackalloc T[count];
            for (int phase = 0; phase + 1 < sp.TapStart.Length; phase++)
            {
                int q0 = sp.TapStart[phase], q1 = sp.TapStart[phase + 1];
                ref int pixel = ref sp.Pixel[phase * period];
                int fm = 0, dxImage = (n0 * g.InChannels + ci) * plane;
                for (int f0 = 0; f0 < cols; f0 += count, fm += count)
                {
                    if (fm == period)
                    {
                        fm = 0;
                        dxImage += sp.ImagesPerPeriod * imageStride;
                    }
                    int width = Math.Min(count, cols - f0);
                    if (f0 >= safeLo && f0 <= safeHi)
                    {
                        var sum = Vector<T>.Zero;
                        for (int q = q0; q < q1; q++)
                            sum += Vector.BitwiseAnd(Vector.LoadUnsafe(ref c, (nuint)(reads[q] + f0)), Vector.LoadUnsafe(ref masks, (nuint)(q * period + fm)));
                        sum.CopyTo(lanes);
                    }
                    else
                    {
                        for (int e = 0; e < width; e++)
                        {
                            T sum = T.Zero;
                            for (int q = q0; q < q1; q++)
                                if (!T.IsZero(Unsafe.Add(ref masks, q * period + fm + e))) sum += Unsafe.Add(ref c, reads[q] + f0 + e);
                            lanes[e] = sum;
                        }
                    }
                    for (int e = 0; e < width; e++)
                        Unsafe.Add(ref d, dxImage + sp.Image[fm + e] * imageStride + Unsafe.Add(ref pixel, fm + e)) = lanes[e];
                }
            }
        }
    }
}
