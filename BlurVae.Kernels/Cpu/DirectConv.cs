using System.Buffers;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Direct convolution for the layers im2col serves badly: few output channels (the last layer of a decoder, 1 or 3
/// image channels) or few taps per output (the first layer of an encoder, Cin·k² ≤ 32). There the GEMM is a thin
/// matrix product and the column matrix (Cin·k² rows × N·H·W columns, 75 MB for a 32-channel 32×32 batch of 64)
/// costs far more memory traffic than the arithmetic; here each output row is accumulated in SIMD registers.
/// <para>
/// At stride 1 (the last layers, and every input gradient this class computes) the input is read where it lies:
/// DirectConv.Forward.cs and DirectConv.Weight.cs clip the taps at the borders. At stride 2 and more (the first
/// layers, 1 or 3 input channels: a cheap copy) the input is first copied once into a zero-padded, phase-split layout:
/// for stride s, plane (a, b) holds the padded pixels whose coordinates are ≡ (a, b) mod s, so every tap (i, j) of
/// every output row is one contiguous read (phase (i mod s, j mod s), offset (oh + i/s, ow + j/s)), with no bounds tests.
/// </para>
/// </summary>
internal static unsafe partial class DirectConv<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether the forward pass (and, for weights, the backward-weight pass) of g goes the direct way; the phase
    /// split assumes one stride and padding for both axes, so a per-axis geometry goes through im2col.
    /// </summary>
    public static bool Suits(ConvGeometry g) => g.IsUniform && (g.OutChannels <= 4 || g.InChannels * g.KernelH * g.KernelW <= 32);

    /// <summary>
    /// Whether the JIT has 32 vector registers (AVX-512: EVEX encodes ymm16–31): room for the larger tiles (4 × 4 and
    /// 2 × 3 × 4 forward accumulators, 27 backward-weight ones); with 16 registers they would spill.
    /// </summary>
    private static readonly bool WideRegisterFile = Avx512F.VL.IsSupported;

    /// <summary>
    /// Whether the backward-input pass does: at stride 1 (square kernel) it is the forward convolution of dy with the
    /// flipped, transposed kernel (padding k−1−p), so it suits when that convolution does.
    /// </summary>
    public static bool SuitsBackwardInput(ConvGeometry g) =>
        g.IsUniform && g.Stride == 1 && g.KernelH == g.KernelW && g.Padding <= g.KernelH - 1 && Suits(Transposed(g));

    // Layout of the phase-split input of one (image, channel): s² planes of ph × pw.
    internal readonly record struct Phases(int S, int Ph, int Pw)
    {
        public int PlaneLength => Ph * Pw;
        public int ChannelLength => S * S * Ph * Pw;

        public static Phases Of(ConvGeometry g) =>
            new(g.Stride, g.OutH + (g.KernelH - 1) / g.Stride, g.OutW + (g.KernelW - 1) / g.Stride);

        // Offset, within one channel's phases, of the first value tap (i, j) reads for output (0, 0).
        public int TapOffset(int i, int j) => ((i % S) * S + j % S) * PlaneLength + (i / S) * Pw + j / S;
    }

    // p[(n·Cin + ci)·ChannelLength + (a·s + b)·PlaneLength + r·pw + c] = x[n, ci, r·s + a − pad, c·s + b − pad] (0 outside).
    internal static void SplitPhases(T[] p, T[] x, ConvGeometry g, Phases ph)
    {
        int s = g.Stride, inPlane = g.InH * g.InW;
        Parallelism.ForEach(g.N * g.InChannels, ph.ChannelLength, nc =>
        {
            var src = x.AsSpan(nc * inPlane, inPlane);
            var dst = p.AsSpan(nc * ph.ChannelLength, ph.ChannelLength);
            for (int a = 0; a < s; a++)
                for (int b = 0; b < s; b++)
                {
                    var plane = dst.Slice((a * s + b) * ph.PlaneLength, ph.PlaneLength);
                    for (int r = 0; r < ph.Ph; r++)
                    {
                        var row = plane.Slice(r * ph.Pw, ph.Pw);
                        int ih = r * s + a - g.Padding;
                        if ((uint)ih >= (uint)g.InH)
                        {
                            row.Clear();
                            continue;
                        }
                        var srcRow = src.Slice(ih * g.InW, g.InW);
                        // Columns c0 … c1−1 fall inside the input row: zero borders around a copy (stride 1) or a strided gather.
                        int first = b - g.Padding;
                        int c0 = Math.Min(row.Length, Math.Max(0, (-first + s - 1) / s));
                        int lastIn = g.InW - 1 - first;
                        int c1 = lastIn < 0 ? c0 : Math.Max(c0, Math.Min(row.Length, lastIn / s + 1));
                        row.Slice(0, c0).Clear();
                        row.Slice(c1).Clear();
                        if (s == 1) srcRow.Slice(c0 + first, c1 - c0).CopyTo(row.Slice(c0));
                        else
                            for (int c = c0; c < c1; c++) row[c] = srcRow[c * s + first];
                    }
                }
        });
    }

    /// <summary>y = conv(x, w) + bias.</summary>
    public static void Forward(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g)
    {
        if (g.Stride == 1)
        {
            ForwardStride1(y, x, w, bias, g);
            return;
        }
        var ph = Phases.Of(g);
        T[] p = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * ph.ChannelLength);
        try
        {
            SplitPhases(p, x, g, ph);
            ForwardFromPhases(y, p, w, bias, g, ph);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(p);
        }
    }

    /// <summary>
    /// The forward pass from the phases, in the stride-1 pass's register tiles (up to four output channels × up to
    /// four vectors of one output row, <see cref="ForwardAccumulators{TC, TV}"/>): tap (i, j) of row oh is phase row
    /// oh + i/s at column j/s. One channel a task left two accumulators per 16-wide row (the first layers' 16 and 32
    /// outputs), each add waiting on the one before; the sum per output keeps its order (ci, i, j).
    /// </summary>
    private static void ForwardFromPhases(T[] y, T[] p, T[] w, T[]? bias, ConvGeometry g, Phases ph) =>
        ForEachChannelBlock(y, p, w, bias, g, g.InChannels * ph.ChannelLength, (in ForwardTileArgs tile, int channels) =>
        {
            switch (channels)
            {
                case 1: PhaseRows<TileCount1, TileCount4>(tile, ph); break;
                case 2: PhaseRows<TileCount2, TileCount4>(tile, ph); break;
                case 3: PhaseRows<TileCount3, TileCount4>(tile, ph); break;
                default: PhaseRows<TileCount4, TileCount2>(tile, ph); break;
            }
        });

    private static void PhaseRows<TC, TV>(in ForwardTileArgs a, Phases ph) where TC : struct, ITileCount where TV : struct, ITileCount
    {
        var g = a.G;
        int taps = g.KernelH * g.KernelW, width = TV.Value * Vector<T>.Count, last = Math.Max(0, g.OutW - width);
        // Tap t's phase row (less oh·pw) and column within a channel's phases.
        Span<int> rows = stackalloc int[taps], cols = stackalloc int[taps];
        for (int t = 0; t < taps; t++)
        {
            int i = t / g.KernelW, j = t % g.KernelW;
            rows[t] = ph.TapOffset(i, j) - j / ph.S;
            cols[t] = j / ph.S;
        }
        fixed (int* pr = rows, pc = cols)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow0 = 0; ; ow0 = Math.Min(ow0 + width, last))
                {
                    // Every phase row holds OutW + (k − 1)/s values, all a tap of a tile inside OutW reads; a row
                    // narrower than the tile reads clipped to it.
                    if (g.OutW >= width) PhaseTile<TC, TV, InteriorLoad<T>>(a, ph, pr, pc, oh, ow0);
                    else PhaseTile<TC, TV, ClippedLoad<T>>(a, ph, pr, pc, oh, ow0);
                    if (ow0 == last) break;
                }
    }

    private static void PhaseTile<TC, TV, TL>(in ForwardTileArgs a, Phases ph, int* rows, int* cols, int oh, int ow0)
        where TC : struct, ITileCount where TV : struct, ITileCount where TL : struct, IRowLoad<T>
    {
        var g = a.G;
        int taps = g.KernelH * g.KernelW;
        nint wSlot = (nint)g.InChannels * taps, rowBase = (nint)oh * ph.Pw;
        var acc = new ForwardAccumulators<TC, TV>();
        if (a.Bias != null) acc.Init(a.Bias, 1);
        for (int ci = 0; ci < g.InChannels; ci++)
        {
            T* xc = a.X + (nint)ci * ph.ChannelLength + rowBase;
            T* wci = a.W + ci * taps;
            for (int t = 0; t < taps; t++) acc.StepChannels<TL, TL, TL>(xc + rows[t], ow0 + cols[t], ph.Pw, wci + t, wSlot);
        }
        acc.Store(a.Y + (nint)oh * g.OutW + ow0, (nint)g.OutH * g.OutW, g.OutW - ow0);
    }

    /// <summary>dx = the adjoint of Forward applied to dy; stride 1 only (see <see cref="SuitsBackwardInput"/>).</summary>
    public static void BackwardInput(T[] dx, T[] dy, T[] w, ConvGeometry g)
    {
        if (!SuitsBackwardInput(g)) throw new ArgumentException("Direct backward-input needs stride 1 and padding below the kernel size.", nameof(g));
        var gt = Transposed(g);
        int kh = g.KernelH, kw = g.KernelW;
        // w'[ci, co, i, j] = w[co, ci, kh−1−i, kw−1−j]
        T[] wt = ArrayPool<T>.Shared.Rent(g.WeightLength);
        try
        {
            for (int co = 0; co < g.OutChannels; co++)
                for (int ci = 0; ci < g.InChannels; ci++)
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++)
                            wt[((ci * g.OutChannels + co) * kh + i) * kw + j] = w[((co * g.InChannels + ci) * kh + kh - 1 - i) * kw + kw - 1 - j];
            ForwardStride1(dx, dy, wt, null, gt);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(wt);
        }
    }

    /// <summary>dw (and dbias) from dy and x; overwrites.</summary>
    public static void BackwardWeight(T[] dw, T[]? dbias, T[] dy, T[] x, ConvGeometry g)
    {
        if (g.Stride == 1) BackwardWeightStride1(dw, dy, x, g);
        else BackwardWeightByPhases(dw, dy, x, g);
        if (dbias is not null) BiasGradient(dbias, dy, g);
    }

    private static void BiasGradient(T[] dbias, T[] dy, ConvGeometry g)
    {
        int vc = Vector<T>.Count, outPlane = g.OutH * g.OutW;
        for (int co = 0; co < g.OutChannels; co++)
        {
            var accV = Vector<T>.Zero;
            T acc = T.Zero;
            for (int n = 0; n < g.N; n++)
            {
                ReadOnlySpan<T> d = dy.AsSpan((n * g.OutChannels + co) * outPlane, outPlane);
                int i = 0;
                for (; i + vc <= d.Length; i += vc) accV += new Vector<T>(d.Slice(i));
                for (; i < d.Length; i++) acc += d[i];
            }
            dbias[co] = acc + Vector.Sum(accV);
        }
    }

    private static void BackwardWeightByPhases(T[] dw, T[] dy, T[] x, ConvGeometry g)
    {
        var ph = Phases.Of(g);
        T[] p = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * ph.ChannelLength);
        try
        {
            SplitPhases(p, x, g, ph);
            int kh = g.KernelH, kw = g.KernelW, taps = kh * kw, outPlane = g.OutH * g.OutW;
            // One task per (co, ci) pair, all its taps at once: each row of dy and of the input is read once for every
            // tap instead of once per tap, which keeps a 9.5 MB phase split from streaming through the cache k² times.
            // Each tap keeps its own accumulators in the same (n, oh, ow) order as a task per tap would, so the sums are identical.
            Parallelism.ForEach(g.OutChannels * g.InChannels, (long)g.N * outPlane * taps, pair =>
            {
                int co = pair / g.InChannels, ci = pair % g.InChannels;
                Span<Vector<T>> accV = stackalloc Vector<T>[taps];
                Span<T> acc = stackalloc T[taps];
                accV.Clear();
                acc.Clear();
                Span<int> offs = stackalloc int[taps];
                for (int t = 0; t < taps; t++) offs[t] = ci * ph.ChannelLength + ph.TapOffset(t / kw, t % kw);
                for (int n = 0; n < g.N; n++)
                {
                    ReadOnlySpan<T> img = p.AsSpan(n * g.InChannels * ph.ChannelLength);
                    ReadOnlySpan<T> d = dy.AsSpan((n * g.OutChannels + co) * outPlane, outPlane);
                    WeightRows(accV, acc, d, g.OutW, img, offs, ph.Pw);
                }
                for (int t = 0; t < taps; t++) dw[pair * taps + t] = acc[t] + Vector.Sum(accV[t]);
            });
        }
        finally
        {
            ArrayPool<T>.Shared.Return(p);
        }
    }

    /// <summary>
    /// One image's dy (rows of `width`) against every tap's input rows (pw apart): accV[t] += dy[oh, ow]·img[offs[t] +
    /// oh·pw + ow] by vectors of ow, acc[t] for the tails. The taps are the inner loop, so each vector of dy is loaded once
    /// and the k² accumulators are independent chains; the rows are a loop inside, so the accumulators stay in registers
    /// for the whole image (a call per row spent as long setting up as adding: the first layers' rows are 1–2 vectors).
    /// Per tap the terms are added in the same (oh, ow) order, so the results are the same.
    /// </summary>
    private static void WeightRows(Span<Vector<T>> accV, Span<T> acc, ReadOnlySpan<T> dy, int width, ReadOnlySpan<T> img, ReadOnlySpan<int> offs, int pw)
    {
        int vc = Vector<T>.Count, taps = offs.Length, rows = dy.Length / width, vectorWidth = width - width % vc;
        // Every read is inside img: offs[t] + oh·pw + ow < img.Length for ow < width (the phase layout's padding).
        ref T src = ref MemoryMarshal.GetReference(img);
        ref T d = ref MemoryMarshal.GetReference(dy);
        ref int off = ref MemoryMarshal.GetReference(offs);
        ref Vector<T> a = ref MemoryMarshal.GetReference(accV);
        if (taps == 9)
        {
            // k = 3 (every thin layer of the models): the nine accumulators as locals, so they stay in registers
            // for the whole image instead of a load and a store per term.
            Vector<T> a0 = a, a1 = Unsafe.Add(ref a, 1), a2 = Unsafe.Add(ref a, 2), a3 = Unsafe.Add(ref a, 3), a4 = Unsafe.Add(ref a, 4),
                      a5 = Unsafe.Add(ref a, 5), a6 = Unsafe.Add(ref a, 6), a7 = Unsafe.Add(ref a, 7), a8 = Unsafe.Add(ref a, 8);
            ref T s0 = ref Unsafe.Add(ref src, off), s1 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 1));
            ref T s2 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 2)), s3 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 3));
            ref T s4 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 4)), s5 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 5));
            ref T s6 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 6)), s7 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 7));
            ref T s8 = ref Unsafe.Add(ref src, Unsafe.Add(ref off, 8));
            for (int oh = 0; oh < rows; oh++)
            {
                nuint rb = (nuint)((nint)oh * pw), db = (nuint)((nint)oh * width);
                for (nuint ow = 0; ow < (nuint)vectorWidth; ow += (nuint)vc)
                {
                    var dv = Vector.LoadUnsafe(ref d, db + ow);
                    nuint o = rb + ow;
                    a0 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s0, o), a0);
                    a1 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s1, o), a1);
                    a2 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s2, o), a2);
                    a3 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s3, o), a3);
                    a4 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s4, o), a4);
                    a5 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s5, o), a5);
                    a6 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s6, o), a6);
                    a7 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s7, o), a7);
                    a8 = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref s8, o), a8);
                }
            }
            a = a0;
            Unsafe.Add(ref a, 1) = a1;
            Unsafe.Add(ref a, 2) = a2;
            Unsafe.Add(ref a, 3) = a3;
            Unsafe.Add(ref a, 4) = a4;
            Unsafe.Add(ref a, 5) = a5;
            Unsafe.Add(ref a, 6) = a6;
            Unsafe.Add(ref a, 7) = a7;
            Unsafe.Add(ref a, 8) = a8;
        }
        else
            for (int oh = 0; oh < rows; oh++)
                for (int ow = 0; ow < vectorWidth; ow += vc)
                {
                    var dv = Vector.LoadUnsafe(ref d, (nuint)(oh * width + ow));
                    for (int t = 0; t < taps; t++)
                        Unsafe.Add(ref a, t) = TileVector<T>.MulAdd(dv, Vector.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t) + oh * pw + ow)), Unsafe.Add(ref a, t));
                }
        if (vectorWidth == width) return;
        for (int t = 0; t < taps; t++)
        {
            T r = acc[t];
            ref T s = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            for (int oh = 0; oh < rows; oh++)
                for (int o = vectorWidth; o < width; o++) r += Unsafe.Add(ref d, oh * width + o) * Unsafe.Add(ref s, oh * pw + o);
            acc[t] = r;
        }
    }

    // The stride-1 convolution dy → dx that is g's backward-input pass.
    private static ConvGeometry Transposed(ConvGeometry g) =>
        new(g.N, g.OutChannels, g.OutH, g.OutW, g.InChannels, g.KernelH, g.KernelW, 1, 1, g.KernelH - 1 - g.Padding, g.KernelH - 1 - g.Padding, g.InH, g.InW);
}
