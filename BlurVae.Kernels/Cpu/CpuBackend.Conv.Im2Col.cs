using System.Buffers;

namespace BlurVae.Kernels.Cpu;

// im2col straight into the GEMM's packed panels. The column matrix of images n0 … n0+nb−1 has rows (ci, i, j) and
// columns (n, oh, ow):
//   Col[(ci·kh + i)·kw + j, (n − n0)·S + oh·OW + ow] = x[n, ci, oh·sh − ph + i, ow·sw − pw + j] (0 outside).
// It is never stored: the GEMM asks for one block of panels at a time (IPanelSource); the forward pass packs Col
// (B = Col, panel lanes are columns), the backward-weight pass Colᵀ (B = Colᵀ, panel lanes are column-matrix rows).
//
// Both read a zero-padded copy of x, in which the column matrix is separable:
//   Col[r, c] = padded[ColumnBase[c] + TapOffset[r]],
// so every panel row is one gather, 8 lanes per AVX2 instruction, with no bounds to test and no run to cut: the
// deep layers' output rows are 2–8 values long, Colᵀ's panels would cut every run into single lanes, and a
// strided copy (stride 2) is a gather anyway. Measured against runs copied from x (stride 1) or from its phase
// split (stride 2, rows ≥ 16) on one core: equal at stride 1, 25 % faster at stride 2 (the padded copy is plain row
// copies where the phase split is a strided gather of the whole input).
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        /// <summary>
        /// x with its zero padding written out (per plane (OH−1)·sh + kh rows of (OW−1)·sw + kw columns: exactly
        /// what the taps read), and the tables ColumnBase[(n, oh, ow)] (where the output reads tap (0, 0) of channel
        /// 0) and TapOffset[(ci, i, j)] (the tap's offset from there). Made once per op; the geometry is copied into
        /// fields, not passed by value per row.
        /// </summary>
        private sealed unsafe class ColumnSource : IDisposable
        {
            private readonly T[] _padded;
            private readonly int[] _tables;   // [ColumnBase: N·S | TapOffset: Cin·kh·kw]
            private readonly int _columns;

            private ColumnSource(T[] padded, int[] tables, int columns)
            {
                (_padded, _tables, _columns) = (padded, tables, columns);
                Col = new GatheredPanels(this, transposed: false);
                ColT = new GatheredPanels(this, transposed: true);
            }

            /// <summary>The forward GEMM's B: Col of the whole batch (a chunk's GEMM starts at its first column).</summary>
            public IPanelSource<T> Col { get; }

            /// <summary>The backward-weight GEMM's B: Colᵀ of the whole batch (a chunk's GEMM starts at its first row).</summary>
            public IPanelSource<T> ColT { get; }

            public static ColumnSource Of(T[] x, ConvGeometry g)
            {
                int rows = (g.OutH - 1) * g.StrideH + g.KernelH, cols = (g.OutW - 1) * g.StrideW + g.KernelW, plane = rows * cols;
                T[] padded = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * plane);
                Pad(padded, x, g, rows, cols);
                int spatial = g.OutH * g.OutW, columns = g.N * spatial, kk = g.KernelH * g.KernelW;
                int[] t = ArrayPool<int>.Shared.Rent(columns + g.InChannels * kk);
                for (int n = 0; n < g.N; n++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++)
                            t[n * spatial + oh * g.OutW + ow] = n * g.InChannels * plane + oh * g.StrideH * cols + ow * g.StrideW;
                for (int row = 0; row < g.InChannels * kk; row++)
                {
                    int ci = row / kk, r = row % kk;
                    t[columns + row] = ci * plane + r / g.KernelW * cols + r % g.KernelW;
                }
                return new ColumnSource(padded, t, columns);
            }

            public void Dispose()
            {
                ArrayPool<T>.Shared.Return(_padded);
                ArrayPool<int>.Shared.Return(_tables);
            }

            // padded[nc, r, c] = x[nc, r − ph, c − pw] (0 outside), r < rows, c < cols.
            private static void Pad(T[] padded, T[] x, ConvGeometry g, int rows, int cols)
            {
                int inPlane = g.InH * g.InW, plane = rows * cols;
                int c0 = Math.Min(cols, g.PaddingW), c1 = Math.Clamp(g.PaddingW + g.InW, c0, cols); // the columns inside x
                int ph = g.PaddingH, pw = g.PaddingW, inH = g.InH, inW = g.InW;
                int r0 = Math.Min(rows, ph), r1 = Math.Clamp(ph + inH, r0, rows); // the rows inside x
                bool border = r0 > 0 || r1 < rows || c0 > 0 || c1 < cols;
                Parallelism.ForEach(g.N * g.InChannels, plane, nc =>
                {
                    // One clear of the whole plane, then one copy per row: the deep layers' rows are a few values long.
                    var dst = padded.AsSpan(nc * plane, plane);
                    if (border) dst.Clear();
                    if (c1 <= c0) return;
                    for (int r = r0; r < r1; r++)
                    {
                        var from = x.AsSpan(nc * inPlane + (r - ph) * inW + c0 - pw, c1 - c0);
                        var to = dst.Slice(r * cols + c0, c1 - c0);
                        if (to.Length >= 32) from.CopyTo(to);
                        else for (int c = 0; c < to.Length; c++) to[c] = from[c]; // a call to Memmove costs more than 2–16 values
                    }
                });
            }

            // Col's (forward) or Colᵀ's (backward weight) panels: panel row q holds ColumnBase[lane columns] + TapOffset[row q]
            // (Col), or TapOffset[lane rows] + ColumnBase[column q] (Colᵀ).
            private sealed class GatheredPanels(ColumnSource src, bool transposed) : IPanelSource<T>
            {
                public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
                {
                    int columns = src._columns;
                    fixed (T* data = src._padded)
                    fixed (int* tables = src._tables)
                    {
                        int* lanes = transposed ? tables + columns + j0 : tables + j0;
                        int* down = transposed ? tables + k0 : tables + columns + k0;
                        for (int p = 0; p < nc; p += nr)
                        {
                            int count = Math.Min(nr, nc - p);
                            T* panel = dst + (nint)(p / nr) * nr * kc;
                            for (int q = 0; q < kc; q++) GatherRow(data, lanes + p, down[q], count, nr, panel + q * nr);
                        }
                    }
                }
            }

            /// <summary>d[l] = src[index[l] + add] for l &lt; count, 0 for count ≤ l &lt; nr.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void GatherRow(T* src, int* index, int add, int count, int nr, T* d)
            {
                int l = 0;
                if (Avx2.IsSupported)
                {
                    if (typeof(T) == typeof(float))
                    {
                        var va = Vector256.Create(add);
                        for (; l + 8 <= count; l += 8)
                            Avx2.GatherVector256((float*)src, Avx.LoadVector256(index + l) + va, 4).Store((float*)d + l);
                    }
                    else if (typeof(T) == typeof(double))
                    {
                        var va = Vector128.Create(add);
                        for (; l + 4 <= count; l += 4)
                            Avx2.GatherVector256((double*)src, Sse2.LoadVector128(index + l) + va, 8).Store((double*)d + l);
                    }
                }
                for (; l < count; l++) d[l] = src[index[l] + add];
                for (; l < nr; l++) d[l] = T.Zero;
            }
        }
    }
}
