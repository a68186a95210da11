using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// col2im: the adjoint of im2col, the last step of an input gradient (and of a transposed convolution's forward pass)
// on the GEMM + col2im path. The GEMM leaves dcol = Wᵀ·dy, [Cin·KH·KW, nb·OH·OW]; each input pixel is the sum of the
// column entries that im2col copied from it. At stride 1 a tap's entries for one output row land on one contiguous
// run of the input row (a SIMD add); at stride s > 1 they land on every s-th pixel, so the pixels are summed by phase
// (ConvPhases): each pixel gathers its few taps in a register and is stored once. Where every phase is as large as
// the output plane (even sides at stride 2) a channel's phases are summed as shifted SIMD vectors instead
// (CpuBackend.Col2Im.Shifted.cs); the phase rows and the tap table below take the other shapes.
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        /// <summary>
        /// How col2im sums the planes of one op at stride s > 1 on either axis (null: the row adds of stride 1): by
        /// phase rows, a SIMD vector of pixels at a time, where the phase rows are at least two vectors long; else by
        /// a table of every plane pixel's taps (the deep layers' 2×2 to 16×16 planes, whose phase rows of 1–8 pixels
        /// would spend more on each row's setup than on its sums). The table is the same for every plane. Where every
        /// phase is as large as the output plane (and, beyond 32×32 planes, output rows are whole vectors), Shifted sums
        /// a channel's planes by shifted vectors instead (CpuBackend.Col2Im.Shifted.cs), in the same order as either.
        /// </summary>
        private sealed class Col2ImPlan
        {
            public ConvPhase[]? Phases { get; private init; }
            /// <summary>Pixel p's taps are entries Starts[p] … Starts[p+1]−1 of Taps: pairs (tap i·KW + j, output pixel oh·OW + ow), in tap order.</summary>
            public int[] Starts { get; private init; } = [];
            public int[] Taps { get; private init; } = [];
            public ShiftedPlan? Shifted { get; private init; }

            /// <summary>Whether col2im runs per channel over all the column matrix's images (the shifted path) rather than per plane.</summary>
            public bool ByChannel => Shifted is not null && Col2ImShiftedPlanes;

            // Plans by plane geometry and input channels (the shifted path's dx offsets step by Cin planes per image;
            // batch and output channels do not matter): a step meets a handful, every step.
            private static readonly System.Collections.Concurrent.ConcurrentDictionary<ConvGeometry, Col2ImPlan> Cache = new();

            public static Col2ImPlan? Of(ConvGeometry g) =>
                g.StrideH == 1 && g.StrideW == 1 ? null : Cache.GetOrAdd(g with { N = 1, OutChannels = 1 }, Build);

            private static Col2ImPlan Build(ConvGeometry g)
            {
                var phases = new ConvPhase[ConvPhases.Count(g)];
                for (int i = 0; i < phases.Length; i++) phases[i] = ConvPhases.Of(g, i);
                var shifted = ShiftedPlan.TryBuild(g);
                if (ConvPhases.Largest(g).Cols >= 2 * Vector<T>.Count) return new Col2ImPlan { Phases = phases, Shifted = shifted };
                var starts = new int[g.InH * g.InW + 1];
                var taps = new List<int>();
                for (int ih = 0, p = 0; ih < g.InH; ih++)
                    for (int iw = 0; iw < g.InW; iw++, p++)
                    {
                        for (int i = 0; i < g.KernelH; i++)
                        {
                            int a = ih + g.PaddingH - i, oh = a / g.StrideH;
                            if (a < 0 || a % g.StrideH != 0 || oh >= g.OutH) continue;
                            for (int j = 0; j < g.KernelW; j++)
                            {
                                int b = iw + g.PaddingW - j, ow = b / g.StrideW;
                                if (b < 0 || b % g.StrideW != 0 || ow >= g.OutW) continue;
                                taps.Add(i * g.KernelW + j);
                                taps.Add(oh * g.OutW + ow);
                            }
                        }
                        starts[p + 1] = taps.Count / 2;
                    }
                return new Col2ImPlan { Starts = starts, Taps = taps.ToArray(), Shifted = shifted };
            }
        }

        // Channel ci of every image n0 … n0+nb−1 of the column matrix: one shifted pass, or plane by plane.
        private static void Col2ImChannel(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int ci, Col2ImPlan? plan)
        {
            if (plan is { ByChannel: true }) Col2ImChannelShifted(dx, col, n0, nb, g, ci, plan.Shifted!);
            else
                for (int n = n0; n < n0 + nb; n++) Col2ImPlane(dx, col, n0, nb, g, n * g.InChannels + ci, plan);
        }

        // The adjoint of Im2ColRow for input plane nc = n·Cin + ci (n within n0 … n0+nb−1): overwrites dx's plane
        // with the sum of every column entry read from it. Planes receive from disjoint column rows, so planes can
        // run in parallel; plan = Col2ImPlan.Of(g).
        private static void Col2ImPlane(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int nc, Col2ImPlan? plan)
        {
            if (plan is null) Col2ImPlaneRows(dx, col, n0, nb, g, nc);
            else if (plan.Phases is not null) Col2ImPlaneByPhases(dx, col, n0, nb, g, nc, plan.Phases);
            else Col2ImPlaneByTable(dx, col, n0, nb, g, nc, plan);
        }

        // Every pixel of the plane sums its taps from the table (in tap order, from zero) and is stored once.
        private static void Col2ImPlaneByTable(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int nc, Col2ImPlan plan)
        {
            int spatial = g.OutH * g.OutW, cols = nb * spatial, pixels = g.InH * g.InW;
            int n = nc / g.InChannels, ci = nc % g.InChannels;
            var plane = dx.AsSpan(nc * pixels, pixels);
            ref T src = ref col[ci * g.KernelH * g.KernelW * cols + (n - n0) * spatial];
            ref int taps = ref MemoryMarshal.GetArrayDataReference(plan.Taps);
            int[] starts = plan.Starts;
            for (int p = 0, q = 0; p < plane.Length; p++)
            {
                T sum = T.Zero;
                for (int end = starts[p + 1]; q < end; q++)
                    sum += Unsafe.Add(ref src, Unsafe.Add(ref taps, 2 * q) * cols + Unsafe.Add(ref taps, 2 * q + 1));
                plane[p] = sum;
            }
        }

        // Stride 1: the plane is cleared, then every tap adds its output rows onto contiguous runs of the plane's rows.
        private static void Col2ImPlaneRows(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int nc)
        {
            int kk = g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = nb * spatial;
            int n = nc / g.InChannels, ci = nc % g.InChannels;
            var plane = dx.AsSpan(nc * g.InH * g.InW, g.InH * g.InW);
            plane.Clear();
            for (int r = 0; r < kk; r++)
            {
                int i = r / g.KernelW, j = r % g.KernelW;
                int iw0 = j - g.PaddingW;
                var (lo, hi) = ValidColumns(iw0, 1, g.OutW, g.InW);
                if (hi <= lo) continue;
                int srcBase = (ci * kk + r) * cols + (n - n0) * spatial;
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    int ih = oh - g.PaddingH + i;
                    if ((uint)ih >= (uint)g.InH) continue;
                    var d = plane.Slice(ih * g.InW + iw0 + lo, hi - lo);
                    TensorPrimitives.Add(d, col.AsSpan(srcBase + oh * g.OutW + lo, hi - lo), d);
                }
            }
        }

        // Stride s > 1: pixel (RowStart + sh·u, ColStart + sw·v) of phase φ receives exactly the taps
        // (φh + sh·t, φw + sw·r) through output pixel (OutRow0 + u − t, OutCol0 + v − r): k²/s² of them on average
        // (1, 2, 2 or 4 at k3 s2), summed in a register from zero in tap order (t, r), which is the tap order
        // i·KW + j of the stride-1 row adds, and stored once: no clear, no read-modify-write of dx, no strided
        // scalar adds per tap and output row. Interior pixels, where every tap column reads inside the output row,
        // take a SIMD vector of pixels at a time when the phase row is long enough.
        private static void Col2ImPlaneByPhases(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int nc, ConvPhase[] phases)
        {
            int kk = g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = nb * spatial;
            int n = nc / g.InChannels, ci = nc % g.InChannels;
            int sh = g.StrideH, sw = g.StrideW, outW = g.OutW;
            int planeOff = nc * g.InH * g.InW;
            int colBase = ci * kk * cols + (n - n0) * spatial;
            Span<int> runs = stackalloc int[kk];
            Span<T> lanes = stackalloc T[Vector<T>.Count];
            foreach (var ph in phases)
            {
                if (ph.Cols == 0) continue;
                // Pixels v ∈ [vLo, vHi) read every tap column r < TapCols inside the output row (0 ≤ OutCol0 + v − r < OW).
                int vLo = Math.Clamp(ph.TapCols - 1 - ph.OutCol0, 0, ph.Cols), vHi = Math.Clamp(outW - ph.OutCol0, vLo, ph.Cols);
                for (int u = 0; u < ph.Rows; u++)
                {
                    ref T dst = ref dx[planeOff + (ph.RowStart + sh * u) * g.InW + ph.ColStart];
                    // Tap rows t whose output row OutRow0 + u − t exists; run q = (t, r) starts at pixel v = 0 of its column row.
                    int t0 = Math.Max(0, ph.OutRow0 + u - g.OutH + 1), t1 = Math.Min(ph.TapRows, ph.OutRow0 + u + 1);
                    int q = 0;
                    for (int t = t0; t < t1; t++)
                    {
                        int rowOff = (ph.OutRow0 + u - t) * outW + ph.OutCol0;
                        for (int r = 0; r < ph.TapCols; r++)
                            runs[q++] = colBase + ((ph.PhaseRow + sh * t) * g.KernelW + ph.PhaseCol + sw * r) * cols + rowOff - r;
                    }
                    if (q == 0)
                    {
                        for (int v = 0; v < ph.Cols; v++) Unsafe.Add(ref dst, sw * v) = T.Zero;
                        continue;
                    }
                    var taps = runs.Slice(0, q);
                    EdgePixels(ref dst, col, taps, ph, outW, sw, 0, vLo);
                    if (vHi - vLo >= Vector<T>.Count)
                    {
                        // Whole vectors; the last one overlaps its predecessor instead of leaving a scalar tail.
                        for (int v0 = vLo; ; v0 += Vector<T>.Count)
                        {
                            v0 = Math.Min(v0, vHi - Vector<T>.Count);
                            var sum = Vector<T>.Zero;
                            foreach (int run in taps) sum += new Vector<T>(col, run + v0);
                            if (sw == 1) sum.StoreUnsafe(ref Unsafe.Add(ref dst, v0));
                            else
                            {
                                sum.CopyTo(lanes);
                                for (int e = 0; e < lanes.Length; e++) Unsafe.Add(ref dst, sw * (v0 + e)) = lanes[e];
                            }
                            if (v0 == vHi - Vector<T>.Count) break;
                        }
                    }
                    else
                    {
                        for (int v = vLo; v < vHi; v++)
                        {
                            T sum = T.Zero;
                            foreach (int run in taps) sum += col[run + v];
                            Unsafe.Add(ref dst, sw * v) = sum;
                        }
                    }
                    EdgePixels(ref dst, col, taps, ph, outW, sw, vHi, ph.Cols);
                }
            }
        }

        // Pixels v ∈ [v0, v1) of a phase row near its ends, where tap columns r outside [rLo, rHi) fall outside the output row.
        private static void EdgePixels(ref T dst, T[] col, ReadOnlySpan<int> taps, in ConvPhase ph, int outW, int sw, int v0, int v1)
        {
            for (int v = v0; v < v1; v++)
            {
                int rLo = Math.Max(0, ph.OutCol0 + v - outW + 1), rHi = Math.Min(ph.TapCols, ph.OutCol0 + v + 1);
                T sum = T.Zero;
                for (int q0 = 0; q0 < taps.Length; q0 += ph.TapCols)
                    for (int r = rLo; r < rHi; r++) sum += col[taps[q0 + r] + v];
                Unsafe.Add(ref dst, sw * v) = sum;
            }
        }
    }
}
