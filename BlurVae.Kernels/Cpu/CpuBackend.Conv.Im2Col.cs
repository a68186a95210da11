using System.Buffers;

namespace BlurVae.Kernels.Cpu;

// im2col straight into the GEMM's packed panels. The column matrix of images n0 … n0+nb−1 has rows (ci, i, j) and
// columns (n, oh, ow):
//   Col[(ci·kh + i)·kw + j, (n − n0)·S + oh·OW + ow] = x[n, ci, oh·sh − ph + i, ow·sw − pw + j] (0 outside).
// It is never stored: the GEMM asks for one block of panels at a time (IPanelSource); the forward pass packs Col
// (B = Col, panel lanes are columns), the backward-weight pass Colᵀ (B = Colᵀ, panel lanes are column-matrix rows).
//
// Both read x in place. Every column c = (n, oh, ow) and every row r = (ci, i, j) is an entry of three tables (where
// it starts, which input row and which input column it adds), and the column matrix is separable:
//   Col[r, c] = x[Base[c] + Base[r]] where Row[c] + Row[r] ∈ [0, InH) and Col[c] + Col[r] ∈ [0, InW), else 0,
// so every panel row is one masked gather, 8 lanes per AVX2 instruction, the mask two unsigned compares: no bounds
// loop and no run to cut (the deep layers' output rows are 2–8 values long, Colᵀ's panels would cut every run into
// single lanes, and a strided copy is a gather anyway). It replaced a zero-padded copy of x (made twice per layer,
// by the forward and the weight-gradient pass): the copy cost more than the masks (docs/benchmarks.md, conv-pack2).
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        /// <summary>
        /// x and the tables Base, Row and Col of every column (n, oh, ow) (entries 0 … N·S−1: where the output reads
        /// tap (0, 0) of channel 0, and that tap's input row and column, negative in the padding) and of every row
        /// (ci, i, j) (entries N·S …: the tap's offset from there, i and j). Made once per op; the geometry is copied
        /// into fields, not passed by value per row.
        /// </summary>
        private sealed unsafe class ColumnSource : IDisposable
        {
            private readonly T[] _x;
            private readonly int[] _tables;   // [Base | Row | Col], each Entries long: N·S columns, then Cin·kh·kw rows
            private readonly int _columns, _entries, _inH, _inW;

            private ColumnSource(T[] x, int[] tables, int columns, int entries, int inH, int inW)
            {
                (_x, _tables, _columns, _entries, _inH, _inW) = (x, tables, columns, entries, inH, inW);
                Col = new GatheredPanels(this, transposed: false);
                ColT = new GatheredPanels(this, transposed: true);
            }

            /// <summary>The forward GEMM's B: Col of the whole batch (a chunk's GEMM starts at its first column).</summary>
            public IPanelSource<T> Col { get; }

            /// <summary>The backward-weight GEMM's B: Colᵀ of the whole batch (a chunk's GEMM starts at its first row).</summary>
            public IPanelSource<T> ColT { get; }

            public static ColumnSource Of(T[] x, ConvGeometry g)
            {
                int inPlane = g.InH * g.InW, spatial = g.OutH * g.OutW, columns = g.N * spatial, kk = g.KernelH * g.KernelW;
                int entries = columns + g.InChannels * kk;
                int[] t = ArrayPool<int>.Shared.Rent(3 * entries);
                for (int n = 0; n < g.N; n++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++)
                        {
                            int c = n * spatial + oh * g.OutW + ow, ih = oh * g.StrideH - g.PaddingH, iw = ow * g.StrideW - g.PaddingW;
                            (t[c], t[entries + c], t[2 * entries + c]) = (n * g.InChannels * inPlane + ih * g.InW + iw, ih, iw);
                        }
                for (int row = 0; row < g.InChannels * kk; row++)
                {
                    int ci = row / kk, i = row % kk / g.KernelW, j = row % g.KernelW, e = columns + row;
                    (t[e], t[entries + e], t[2 * entries + e]) = (ci * inPlane + i * g.InW + j, i, j);
                }
                return new ColumnSource(x, t, columns, entries, g.InH, g.InW);
            }

            public void Dispose() => ArrayPool<int>.Shared.Return(_tables);

            // Col's (forward) or Colᵀ's (backward weight) panels: the lanes of a panel are columns (Col) or rows (Colᵀ) of
            // the column matrix, its rows q the other: element = the lane's entry combined with row q's entry.
            private sealed class GatheredPanels(ColumnSource src, bool transposed) : IPanelSource<T>
            {
                public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
                {
                    int columns = src._columns, entries = src._entries;
                    var bounds = new Bounds(entries, src._inH, src._inW);
                    fixed (T* data = src._x)
                    fixed (int* tables = src._tables)
                    {
                        int* lanes = transposed ? tables + columns + j0 : tables + j0;
                        int* down = transposed ? tables + k0 : tables + columns + k0;
                        for (int p = 0; p < nc; p += nr)
                        {
                            int count = Math.Min(nr, nc - p);
                            T* panel = dst + (nint)(p / nr) * nr * kc;
                            for (int q = 0; q < kc; q++)
                                GatherRow(data, lanes + p, down + q, bounds, count, nr, panel + q * nr);
                        }
                    }
                }
            }

            /// <summary>The tables' stride (Entries) and the input's height and width.</summary>
            private readonly record struct Bounds(int Entries, int InH, int InW);

            /// <summary>
            /// d[l] = x[Base[l] + Base[0 of add]] where the lane's row and column are inside x, else 0, for l &lt; count;
            /// 0 for count ≤ l &lt; nr. index and add point into the Base table (Row and Col follow at Entries, 2·Entries).
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void GatherRow(T* x, int* index, int* add, Bounds b, int count, int nr, T* d)
            {
                int l = 0, e = b.Entries, addBase = add[0], addRow = add[e], addCol = add[2 * e];
                if (Avx2.IsSupported)
                {
                    if (typeof(T) == typeof(float))
                    {
                        Vector256<int> vb = Vector256.Create(addBase), vr = Vector256.Create(addRow), vc = Vector256.Create(addCol);
                        Vector256<uint> h = Vector256.Create((uint)b.InH), w = Vector256.Create((uint)b.InW);
                        for (; l + 8 <= count; l += 8)
                        {
                            var inside = Vector256.LessThan((Avx.LoadVector256(index + e + l) + vr).AsUInt32(), h)
                                       & Vector256.LessThan((Avx.LoadVector256(index + 2 * e + l) + vc).AsUInt32(), w);
                            Avx2.GatherMaskVector256(Vector256<float>.Zero, (float*)x, Avx.LoadVector256(index + l) + vb, inside.AsSingle(), 4)
                                .Store((float*)d + l);
                        }
                    }
                    else if (typeof(T) == typeof(double))
                    {
                        Vector128<int> vb = Vector128.Create(addBase), vr = Vector128.Create(addRow), vc = Vector128.Create(addCol);
                        Vector128<uint> h = Vector128.Create((uint)b.InH), w = Vector128.Create((uint)b.InW);
                        for (; l + 4 <= count; l += 4)
                        {
                            var inside = Vector128.LessThan((Sse2.LoadVector128(index + e + l) + vr).AsUInt32(), h)
                                       & Vector128.LessThan((Sse2.LoadVector128(index + 2 * e + l) + vc).AsUInt32(), w);
                            Avx2.GatherMaskVector256(Vector256<double>.Zero, (double*)x, Sse2.LoadVector128(index + l) + vb,
                                Avx2.ConvertToVector256Int64(inside.AsInt32()).AsDouble(), 8).Store((double*)d + l);
                        }
                    }
                }
                for (; l < count; l++)
                    d[l] = (uint)(index[e + l] + addRow) < (uint)b.InH && (uint)(index[2 * e + l] + addCol) < (uint)b.InW
                        ? x[index[l] + addBase] : T.Zero;
                for (; l < nr; l++) d[l] = T.Zero;
            }
        }
            /// <summary>
        /// dy [N, Cout, S] read in place as the backward-input GEMM's B, the channel-major [Cout, N·S] (B[co, n·S + s] =
        /// dy[n, co, s]) that used to be gathered into scratch and then copied into panels again. A panel inside one
        /// image is a block of rows of that image's planes (row copies); one that crosses images (S &lt; NR) gathers
        /// through a table of where each column starts.
        /// </summary>
        private sealed unsafe class ChannelMajorPanels : IPanelSource<T>, IDisposable
        {
            private readonly T[] _dy;
            private readonly int[] _start; // column n·S + s starts at n·Cout·S + s
            private readonly int _spatial, _image;

            public ChannelMajorPanels(T[] dy, int n, int channels, int spatial)
            {
                (_dy, _spatial, _image) = (dy, spatial, channels * spatial);
                _start = ArrayPool<int>.Shared.Rent(n * spatial);
                for (int i = 0; i < n; i++)
                    for (int s = 0; s < spatial; s++) _start[i * spatial + s] = i * _image + s;
            }

            public void Dispose() => ArrayPool<int>.Shared.Return(_start);

            public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
            {
                int spatial = _spatial;
                fixed (T* dy = _dy)
                fixed (int* start = _start)
                {
                    for (int p = 0; p < nc; p += nr)
                    {
                        int count = Math.Min(nr, nc - p), j = j0 + p;
                        T* panel = dst + (nint)(p / nr) * nr * kc;
                        if (j % spatial + count <= spatial)
                        {
                            T* from = dy + start[j] + (nint)k0 * spatial;
                            for (int q = 0; q < kc; q++) CopyRow(from + (nint)q * spatial, count, nr, panel + q * nr);
                        }
                        else
                            for (int q = 0; q < kc; q++) GatherRow(dy, start + j, (k0 + q) * spatial, count, nr, panel + q * nr);
                    }
                }
            }

            /// <summary>d[l] = src[l] for l &lt; count, 0 for count ≤ l &lt; nr.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void CopyRow(T* src, int count, int nr, T* d)
            {
                int l = 0;
                for (; l + Vector256<T>.Count <= count; l += Vector256<T>.Count) Vector256.Load(src + l).Store(d + l);
                for (; l < count; l++) d[l] = src[l];
                for (; l < nr; l++) d[l] = T.Zero;
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
