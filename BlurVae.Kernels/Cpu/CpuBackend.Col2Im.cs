using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// col2im: the adjoint of im2col, the last step of an input gradient (and of a transposed convolution's forward pass)
// on the GEMM + col2im path. The GEMM leaves dcol = Wᵀ·dy, [Cin·KH·KW, nb·OH·OW]; each input pixel is the sum of the
// column entries that im2col copied from it. At stride 1 a tap's entries for one output row land on one contiguous
// run of the input row (a SIMD add); at stride s > 1 they land on every s-th pixel, so the pixels are summed by phase
// (ConvPhases): each pixel gathers its few taps in a register and is stored once.
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        /// <summary>The phases Col2ImPlane sums by (stride > 1 on either axis), or null for the row adds of stride 1.</summary>
        private static ConvPhase[]? Col2ImPhases(ConvGeometry g)
        {
            if (g.StrideH == 1 && g.StrideW == 1) return null;
            var phases = new ConvPhase[ConvPhases.Count(g)];
            for (int i = 0; i < phases.Length; i++) phases[i] = ConvPhases.Of(g, i);
            return phases;
        }

        // The adjoint of Im2ColRow for input plane nc = n·Cin + ci (n within n0 … n0+nb−1): overwrites dx's plane
        // with the sum of every column entry read from it. Planes receive from disjoint column rows, so planes can
        // run in parallel; phases = Col2ImPhases(g).
        private static void Col2ImPlane(T[] dx, T[] col, int n0, int nb, ConvGeometry g, int nc, ConvPhase[]? phases)
        {
            if (phases is null) Col2ImPlaneRows(dx, col, n0, nb, g, nc);
            else Col2ImPlaneByPhases(dx, col, n0, nb, g, nc, phases);
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
                    int v0 = vLo;
                    for (; v0 + Vector<T>.Count <= vHi; v0 += Vector<T>.Count)
                    {
                        var sum = Vector<T>.Zero;
                        foreach (int run in taps) sum += new Vector<T>(col, run + v0);
                        if (sw == 1) sum.StoreUnsafe(ref Unsafe.Add(ref dst, v0));
                        else
                        {
                            sum.CopyTo(lanes);
                            for (int e = 0; e < lanes.Length; e++) Unsafe.Add(ref dst, sw * (v0 + e)) = lanes[e];
                        }
                    }
                    for (int v = v0; v < vHi; v++)
                    {
                        T sum = T.Zero;
                        foreach (int run in taps) sum += col[run + v];
                        Unsafe.Add(ref dst, sw * v) = sum;
                    }
                    EdgePixels(ref dst, col, taps, ph, outW, sw, vHi, ph.Cols);
                }
            }
        }

        // Pixels v ∈ [v0, v1) of a phase row near its ends, where some tap columns fall outside the output row.
        private static void EdgePixels(ref T dst, T[] col, ReadOnlySpan<int> taps, in ConvPhase ph, int outW, int sw, int v0, int v1)
        {
            for (int v = v0; v < v1; v++)
            {
                T sum = T.Zero;
                for (int q = 0; q < taps.Length; q++)
                {
                    int r = q % ph.TapCols, ow = ph.OutCol0 + v - r;
                    if ((uint)ow < (uint)outW) sum += col[taps[q] + v];
                }
                Unsafe.Add(ref dst, sw * v) = sum;
            }
        }
    }
}
