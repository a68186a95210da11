using System.Buffers;

namespace BlurVae.Kernels.Cpu;

// im2col straight into the GEMM's packed panels. The column matrix of images n0 … n0+nb−1 has rows (ci, i, j) and
// columns (n, oh, ow):
//   Col[(ci·kh + i)·kw + j, (n − n0)·S + oh·OW + ow] = x[n, ci, oh·sh − ph + i, ow·sw − pw + j] (0 outside).
// It is never stored: the GEMM asks for one block of panels at a time (IPanelSource), and the forward pass packs
// Col (panels of columns, B = Col), the backward-weight pass Colᵀ (panels of column-matrix rows, B = Colᵀ). Both
// walk a column row in runs of one output row (n, oh), whose values are x read with one step from one start.
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        // Where im2col reads from: the input itself, or at stride s > 1 with long output rows (UsesPhasedIm2Col) a
        // zero-padded, phase-split copy of it (DirectConv.SplitPhases), made once per op, in which every tap of every
        // output row is one contiguous run with no padding to skip, so a run is a plain copy instead of a strided
        // gather. The columns are the same values. The geometry is copied into fields once, not passed per run.
        private sealed unsafe class ColumnSource : IDisposable
        {
            private readonly T[] _data;        // x, or its phases
            private readonly bool _phased;
            private readonly int _kk, _kw, _cin, _inH, _inW, _outH, _outW, _sh, _sw, _ph, _pw;
            private readonly int _plane;       // elements per (n, ci): InH·InW, or the phases' ChannelLength
            private readonly DirectConv<T>.Phases _phases;

            private ColumnSource(T[] data, bool phased, ConvGeometry g, DirectConv<T>.Phases phases)
            {
                _data = data;
                _phased = phased;
                _phases = phases;
                (_kk, _kw, _cin) = (g.KernelH * g.KernelW, g.KernelW, g.InChannels);
                (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
                (_sh, _sw, _ph, _pw) = (g.StrideH, g.StrideW, g.PaddingH, g.PaddingW);
                _plane = phased ? phases.ChannelLength : g.InH * g.InW;
            }

            public static ColumnSource Of(T[] x, ConvGeometry g)
            {
                if (!UsesPhasedIm2Col(g)) return new ColumnSource(x, false, g, default);
                var ph = DirectConv<T>.Phases.Of(g);
                T[] phases = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * ph.ChannelLength);
                DirectConv<T>.SplitPhases(phases, x, g, ph);
                return new ColumnSource(phases, true, g, ph);
            }

            public int Spatial => _outH * _outW;

            /// <summary>The GEMM's B for images n0 on: Col (forward) or Colᵀ (<paramref name="transposed"/>, backward weight).</summary>
            public IPanelSource<T> Panels(int n0, bool transposed) => transposed ? new RowPanels(this, n0) : new ColumnPanels(this, n0);

            public void Dispose()
            {
                if (_phased) ArrayPool<T>.Shared.Return(_data);
            }

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

            // Colᵀ's panels for the backward-weight GEMM (B = Colᵀ, k running over Col's columns): each panel lane is one
            // column row, whose columns k0 … k0+kc−1 run down the lane (stride nr).
            private sealed class RowPanels(ColumnSource src, int n0) : IPanelSource<T>
            {
                public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
                {
                    int spatial = src.Spatial, outW = src._outW, outH = src._outH, step = src.Step;
                    int nStart = n0 + k0 / spatial, s0 = k0 % spatial, ohStart = s0 / outW, owStart = s0 % outW;
                    fixed (T* data = src._data)
                    {
                        for (int p = 0; p < nc; p++)
                        {
                            var tap = src.Tap(j0 + p);
                            T* lane = dst + (nint)(p / nr) * nr * kc + p % nr;
                            int n = nStart, oh = ohStart, ow = owStart;
                            for (int q = 0; q < kc;)
                            {
                                int len = Math.Min(outW - ow, kc - q);
                                WriteRun(src.RowStart(data, tap, n, oh), step, tap.Lo, tap.Hi, ow, len, lane + (nint)q * nr, nr);
                                q += len;
                                ow = 0;
                                if (++oh == outH) { oh = 0; n++; }
                            }
                        }
                        int used = nc % nr;
                        if (used != 0)
                        {
                            T* last = dst + (nint)(nc / nr) * nr * kc;
                            for (int q = 0; q < kc; q++)
                                for (int l = used; l < nr; l++) last[q * nr + l] = T.Zero;
                        }
                    }
                }
            }
        }
    }
}
