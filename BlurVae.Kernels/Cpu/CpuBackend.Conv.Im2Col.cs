using System.Buffers;

namespace BlurVae.Kernels.Cpu;

// im2col straight into the GEMM's packed panels. The column matrix of images n0 … n0+nb−1 has rows (ci, i, j) and
// columns (n, oh, ow):
//   Col[(ci·kh + i)·kw + j, (n − n0)·S + oh·OW + ow] = x[n, ci, oh·sh − ph + i, ow·sw − pw + j] (0 outside).
// It is never stored: the GEMM asks for one block of panels at a time (IPanelSource), and the forward pass packs
// Col (panels of columns, B = Col), the backward-weight pass Colᵀ (panels of column-matrix rows, B = Colᵀ).
// Two ways to fill a panel row:
//   runs:    a column row walked one output row (n, oh) at a time, each a contiguous copy (wide rows, forward only);
//   gathers: from a zero-padded source (a padded copy of x, or its phases) Col[r, c] = src[ColumnBase[c] + TapOffset[r]],
//            so every panel row is one gather with no bounds to test: 8 lanes per AVX2 gather. Short output rows
//            (the deep layers' 2×2–8×8) would make runs of 2–8 values, and Colᵀ's panels cut every run into lanes.
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        // Where im2col reads from, made once per op:
        //   Direct: x itself, read in runs (stride 1, long rows; forward only);
        //   Phased: at stride s > 1 with long rows (UsesPhasedIm2Col) a zero-padded phase split of x
        //           (DirectConv.SplitPhases), in which every tap of an output row is one contiguous run;
        //   Padded: x with its zero padding written out, rows (OH−1)·sh + kh and columns (OW−1)·sw + kw per plane.
        // The padded sources are separable: Col[r, c] = data[ColumnBase[c] + TapOffset[r]], tables made here too.
        // The geometry is copied into fields once, not passed by value per run.
        private sealed unsafe class ColumnSource : IDisposable
        {
            private readonly T[] _data;        // x, its phases or its padded copy
            private readonly bool _phased, _direct;
            private readonly int _kk, _kw, _cin, _inH, _inW, _outH, _outW, _sh, _sw, _ph, _pw;
            private readonly int _plane;       // elements per (n, ci) of _data
            private readonly DirectConv<T>.Phases _phases;
            private readonly int[]? _tables;   // [ColumnBase: N·S | TapOffset: Cin·kh·kw] of a padded source
            private readonly int _columns;     // N·S

            private ColumnSource(T[] data, ConvGeometry g, bool direct, bool phased, DirectConv<T>.Phases phases, int plane)
            {
                _data = data;
                (_direct, _phased, _phases, _plane) = (direct, phased, phases, plane);
                (_kk, _kw, _cin) = (g.KernelH * g.KernelW, g.KernelW, g.InChannels);
                (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
                (_sh, _sw, _ph, _pw) = (g.StrideH, g.StrideW, g.PaddingH, g.PaddingW);
                _columns = g.N * g.OutH * g.OutW;
                if (!direct) _tables = Tables(g);
            }

            /// <summary>The source of <paramref name="x"/>'s columns; <paramref name="runs"/>: whether the caller reads runs where they pay (forward).</summary>
            public static ColumnSource Of(T[] x, ConvGeometry g, bool runs)
            {
                if (UsesPhasedIm2Col(g))
                {
                    var ph = DirectConv<T>.Phases.Of(g);
                    T[] phases = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * ph.ChannelLength);
                    DirectConv<T>.SplitPhases(phases, x, g, ph);
                    return new ColumnSource(phases, g, false, true, ph, ph.ChannelLength);
                }
                if (runs && g.StrideW == 1 && g.OutW >= MinRunLength) return new ColumnSource(x, g, true, false, default, g.InH * g.InW);
                int rows = (g.OutH - 1) * g.StrideH + g.KernelH, cols = (g.OutW - 1) * g.StrideW + g.KernelW;
                T[] padded = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * rows * cols);
                Pad(padded, x, g, rows, cols);
                return new ColumnSource(padded, g, false, false, default, rows * cols);
            }

            // Output rows from this long are copied as runs (forward); shorter ones are gathered.
            private const int MinRunLength = 16;

            public int Spatial => _outH * _outW;

            /// <summary>The GEMM's B for images n0 on: Col (forward) or Colᵀ (<paramref name="transposed"/>, backward weight).</summary>
            public IPanelSource<T> Panels(int n0, bool transposed) =>
                transposed ? new GatheredPanels(this, n0, transposed: true)
                : _phased && _outW >= MinRunLength || _direct ? new ColumnPanels(this, n0) : new GatheredPanels(this, n0, transposed: false);

            public void Dispose()
            {
                if (!_direct) ArrayPool<T>.Shared.Return(_data);
                if (_tables is not null) ArrayPool<int>.Shared.Return(_tables);
            }

            // padded[nc, r, c] = x[nc, r − ph, c − pw] (0 outside), r < rows, c < cols.
            private static void Pad(T[] padded, T[] x, ConvGeometry g, int rows, int cols)
            {
                int inPlane = g.InH * g.InW, plane = rows * cols;
                int c0 = Math.Min(cols, g.PaddingW), c1 = Math.Clamp(g.PaddingW + g.InW, c0, cols); // columns inside x
                Parallelism.ForEach(g.N * g.InChannels, plane, nc =>
                {
                    var dst = padded.AsSpan(nc * plane, plane);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = dst.Slice(r * cols, cols);
                        int ih = r - g.PaddingH;
                        if ((uint)ih >= (uint)g.InH)
                        {
                            row.Clear();
                            continue;
                        }
                        row.Slice(0, c0).Clear();
                        x.AsSpan(nc * inPlane + ih * g.InW + c0 - g.PaddingW, c1 - c0).CopyTo(row.Slice(c0));
                        row.Slice(c1).Clear();
                    }
                });
            }

            // ColumnBase[(n, oh, ow)] = where output (n, oh, ow) reads tap (0, 0) of channel 0; TapOffset[(ci, i, j)] = the
            // tap's offset from there. Phases: rows Pw apart and taps at Phases.TapOffset; padded copy: rows sh·cols apart.
            private int[] Tables(ConvGeometry g)
            {
                int spatial = g.OutH * g.OutW, columns = g.N * spatial, kdim = g.InChannels * _kk;
                int[] t = ArrayPool<int>.Shared.Rent(columns + kdim);
                int rowStep = _phased ? _phases.Pw : g.StrideH * RowLength, colStep = _phased ? 1 : g.StrideW;
                for (int n = 0; n < g.N; n++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++)
                            t[n * spatial + oh * g.OutW + ow] = n * g.InChannels * _plane + oh * rowStep + ow * colStep;
                for (int row = 0; row < kdim; row++)
                {
                    int ci = row / _kk, r = row % _kk, i = r / _kw, j = r % _kw;
                    t[columns + row] = ci * _plane + (_phased ? _phases.TapOffset(i, j) : i * RowLength + j);
                }
                return t;
            }

            private int RowLength => (_outW - 1) * _sw + _kw; // the padded copy's

            /// <summary>Column row <paramref name="row"/>'s tap: its channel, kernel row, start offset and valid outputs [Lo, Hi).</summary>
            private (int Ci, int I, int Offset, int Lo, int Hi) Tap(int row)
            {
                int ci = row / _kk, r = row - ci * _kk, i = r / _kw, j = r - i * _kw;
                if (_phased) return (ci, i, _phases.TapOffset(i, j), 0, _outW);
                var (lo, hi) = ValidColumns(j - _pw, _sw, _outW, _inW);
                return (ci, i, j - _pw, lo, hi);
            }

            /// <summary>Where output row (n, oh) of the tap reads its ow = 0 value (ow at [ow·Step]), or null when it reads nothing.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private T* RowStart(T* data, (int Ci, int I, int Offset, int Lo, int Hi) tap, int n, int oh)
            {
                T* channel = data + (nint)(n * _cin + tap.Ci) * _plane;
                if (_phased) return channel + tap.Offset + oh * _phases.Pw;
                int ih = oh * _sh - _ph + tap.I;
                if ((uint)ih >= (uint)_inH || tap.Hi <= tap.Lo) return null;
                return channel + ih * _inW + tap.Offset;
            }

            private int Step => _phased ? 1 : _sw;

            /// <summary>d[(ow − ow0)·dstep] = the run's value at ow, for ow0 ≤ ow &lt; ow0 + len: src[ow·step] inside [lo, hi), 0 elsewhere.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void WriteRun(T* src, int step, int lo, int hi, int ow0, int len, T* d, nint dstep)
            {
                int end = ow0 + len;
                if (src == null) { lo = hi = end; }
                int a = Math.Clamp(lo, ow0, end), b = Math.Clamp(hi, a, end);
                for (int ow = ow0; ow < a; ow++) d[(ow - ow0) * dstep] = T.Zero;
                if (step == 1 && dstep == 1) new ReadOnlySpan<T>(src + a, b - a).CopyTo(new Span<T>(d + (a - ow0), b - a));
                else
                {
                    T* s = src + (nint)a * step, o = d + (a - ow0) * dstep;
                    for (int k = 0; k < b - a; k++) o[k * dstep] = s[k * step];
                }
                for (int ow = b; ow < end; ow++) d[(ow - ow0) * dstep] = T.Zero;
            }

            // Col's panels for the forward GEMM (B = Col): for each column row, the columns j0 … j0+nc−1 in runs cut at
            // output rows and at panel edges; each run is contiguous in its panel row.
            private sealed class ColumnPanels(ColumnSource src, int n0) : IPanelSource<T>
            {
                public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
                {
                    int spatial = src.Spatial, outW = src._outW, outH = src._outH, step = src.Step;
                    int nStart = n0 + j0 / spatial, s0 = j0 % spatial, ohStart = s0 / outW, owStart = s0 % outW;
                    nint panelStride = (nint)nr * kc;
                    fixed (T* data = src._data)
                    {
                        for (int q = 0; q < kc; q++)
                        {
                            var tap = src.Tap(k0 + q);
                            int n = nStart, oh = ohStart, ow = owStart, lane = 0;
                            T* panelRow = dst + q * nr;
                            T* start = src.RowStart(data, tap, n, oh);
                            for (int p = 0; p < nc;)
                            {
                                int len = Math.Min(Math.Min(outW - ow, nc - p), nr - lane);
                                WriteRun(start, step, tap.Lo, tap.Hi, ow, len, panelRow + lane, 1);
                                p += len;
                                ow += len;
                                lane += len;
                                if (lane == nr)
                                {
                                    lane = 0;
                                    panelRow += panelStride;
                                }
                                if (ow == outW)
                                {
                                    ow = 0;
                                    if (++oh == outH) { oh = 0; n++; }
                                    if (p < nc) start = src.RowStart(data, tap, n, oh);
                                }
                            }
                            for (; lane != 0 && lane < nr; lane++) panelRow[lane] = T.Zero; // the last panel's lanes past nc
                        }
                    }
                }
            }

            // Col's (forward) or Colᵀ's (backward weight) panels from a padded source: panel row q is ColumnBase[columns]
            // + TapOffset[row q] (Col), or TapOffset[rows] + ColumnBase[column q] (Colᵀ), one gather per row.
            private sealed class GatheredPanels(ColumnSource src, int n0, bool transposed) : IPanelSource<T>
            {
                public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
                {
                    int first = n0 * src.Spatial, columns = src._columns;
                    fixed (T* data = src._data)
                    fixed (int* tables = src._tables)
                    {
                        // Lanes: columns (Col) or column-matrix rows (Colᵀ); rows of the panels: the other one.
                        int* lanes = transposed ? tables + columns + j0 : tables + first + j0;
                        int* down = transposed ? tables + first + k0 : tables + columns + k0;
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
