using System.Buffers;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// The stride-1 backward-weight pass of the direct convolution, without a padded copy of the input. A tile is up to
/// 3 × 3 accumulators (slot, tap column j): every vector of one input row is loaded once for the tile's three j, every
/// vector of dy once per slot, so 6 loads feed 9 fused multiply-adds. A slot is an output channel (several channels:
/// one tap row i, the dy rows oh = ih + p − i of each channel) or, for a single output channel, a tap row (the dy
/// rows oh = ih + p − i of that channel, one per i). Vectors at the ends of a row read with
/// <see cref="ClippedLoad{T}"/>; dy rows outside the output read a row of zeros. With 32 vector registers a 3 × 3
/// kernel's three channels take all three tap rows in one tile (<see cref="WeightTapRows"/>, 12 loads feed 27).
/// <para>
/// The batch is cut into at most <see cref="WeightChunks"/> chunks of images, a number set by N alone: each chunk's
/// task sums its images into its own vector accumulators (one image's dy stays in cache for all input channels), and
/// the chunks are added in order at the end, so the sums are the same whatever the number of threads.
/// </para>
/// </summary>
internal static unsafe partial class DirectConv<T>
{
    private const int WeightChunks = 16;

    private static void BackwardWeightStride1(T[] dw, T[] dy, T[] x, ConvGeometry g)
    {
        int wlen = g.WeightLength, chunks = Math.Min(g.N, WeightChunks);
        Vector<T>[] partial = ArrayPool<Vector<T>>.Shared.Rent(chunks * wlen);
        T[] zeros = ArrayPool<T>.Shared.Rent(g.OutW);
        Array.Clear(zeros, 0, g.OutW);
        try
        {
            long cost = (long)(g.N / chunks) * g.OutH * g.OutW * wlen;
            Parallelism.ForEach(chunks, cost, chunk =>
            {
                var acc = partial.AsSpan(chunk * wlen, wlen);
                acc.Clear();
                int n0 = (int)((long)g.N * chunk / chunks), n1 = (int)((long)g.N * (chunk + 1) / chunks);
                fixed (T* px = x, pdy = dy, pz = zeros)
                    for (int n = n0; n < n1; n++)
                        WeightImage(ref MemoryMarshal.GetReference(acc), px + (nint)n * g.InChannels * g.InH * g.InW,
                            pdy + (nint)n * g.OutChannels * g.OutH * g.OutW, pz, g);
            });
            for (int t = 0; t < wlen; t++)
            {
                T sum = T.Zero;
                for (int c = 0; c < chunks; c++) sum += Vector.Sum(partial[c * wlen + t]);
                dw[t] = sum;
            }
        }
        finally
        {
            ArrayPool<Vector<T>>.Shared.Return(partial);
            ArrayPool<T>.Shared.Return(zeros);
        }
    }

    /// <summary>One image's terms added to acc (one vector per weight, in the weight's layout).</summary>
    private static void WeightImage(ref Vector<T> acc, T* x, T* dy, T* zeros, ConvGeometry g)
    {
        int kh = g.KernelH, kw = g.KernelW, taps = kh * kw, cin = g.InChannels, p = g.Padding;
        nint inPlane = (nint)g.InH * g.InW, outPlane = (nint)g.OutH * g.OutW;
        for (int ci = 0; ci < cin; ci++)
        {
            T* xc = x + ci * inPlane;
            if (g.OutChannels == 1)
            {
                // Slots are tap rows i0 + s; input row ih meets dy row ih + p − i0 − s.
                for (int i0 = 0; i0 < kh; i0 += 3)
                    for (int j0 = 0; j0 < kw; j0 += 3)
                        WeightTile(Math.Min(3, kh - i0), Math.Min(3, kw - j0), ref Unsafe.Add(ref acc, ci * taps + i0 * kw + j0), kw,
                            new WeightTileArgs(xc, dy, 0, p - i0, -1, zeros, j0, g));
                continue;
            }
            // Slots are output channels co0 + s; input row ih meets their dy rows ih + p − i.
            for (int co0 = 0; co0 < g.OutChannels; co0 += 3)
            {
                if (WideRegisterFile && kh == 3 && kw == 3 && g.OutChannels - co0 >= 3)
                {
                    WeightTapRows(ref Unsafe.Add(ref acc, (co0 * cin + ci) * taps), (nint)cin * taps, new WeightTileArgs(xc, dy + co0 * outPlane, outPlane, p, 0, zeros, 0, g));
                    continue;
                }
                for (int i = 0; i < kh; i++)
                    for (int j0 = 0; j0 < kw; j0 += 3)
                        WeightTile(Math.Min(3, g.OutChannels - co0), Math.Min(3, kw - j0), ref Unsafe.Add(ref acc, (co0 * cin + ci) * taps + i * kw + j0),
                            (nint)cin * taps, new WeightTileArgs(xc, dy + co0 * outPlane, outPlane, p - i, 0, zeros, j0, g));
            }
        }
    }

    /// <summary>
    /// One tile's rows: input channel plane X; slot s reads dy row ih + D0 + s·DStep of channel plane Dy + s·DySlot
    /// (Zeros where that row is outside the output); its accumulators for taps J0 … J0 + 2 lie at acc + s·slotStride.
    /// </summary>
    private readonly struct WeightTileArgs(T* x, T* dy, nint dySlot, int d0, int dStep, T* zeros, int j0, ConvGeometry g)
    {
        public readonly T* X = x, Dy = dy, Zeros = zeros;
        public readonly nint DySlot = dySlot;
        public readonly int D0 = d0, DStep = dStep, J0 = j0;
        public readonly ConvGeometry G = g;

        /// <summary>The same tile for tap row i (this one being tap row 0's): its dy rows lie i rows higher.</summary>
        public WeightTileArgs ForTapRow(int i) => new(X, Dy, DySlot, D0 - i, DStep, Zeros, J0, G);

        public T* DyRow(int ih, int s)
        {
            int r = ih + D0 + s * DStep;
            return (uint)r < (uint)G.OutH ? Dy + s * DySlot + (nint)r * G.OutW : Zeros;
        }
    }

    private static void WeightTile(int slots, int js, ref Vector<T> acc, nint slotStride, in WeightTileArgs a)
    {
        switch (slots * 4 + js)
        {
            case 5: WeightRows<TileCount1, TileCount1>(ref acc, slotStride, a); break;
            case 6: WeightRows<TileCount1, TileCount2>(ref acc, slotStride, a); break;
            case 7: WeightRows<TileCount1, TileCount3>(ref acc, slotStride, a); break;
            case 9: WeightRows<TileCount2, TileCount1>(ref acc, slotStride, a); break;
            case 10: WeightRows<TileCount2, TileCount2>(ref acc, slotStride, a); break;
            case 11: WeightRows<TileCount2, TileCount3>(ref acc, slotStride, a); break;
            case 13: WeightRows<TileCount3, TileCount1>(ref acc, slotStride, a); break;
            case 14: WeightRows<TileCount3, TileCount2>(ref acc, slotStride, a); break;
            default: WeightRows<TileCount3, TileCount3>(ref acc, slotStride, a); break;
        }
    }

    /// <summary>
    /// Three channels × a whole 3 × 3 kernel at once (27 accumulators, where 32 vector registers allow; a is tap row 0's
    /// tile, acc its first weight): each vector of an input row is loaded once for all nine taps instead of once per tap
    /// row, and each input plane is read once instead of three times. The input rows whose three tap rows all meet a
    /// row of dy go this way, the few at the top and bottom tap row by tap row before and after them, so every
    /// accumulator still adds its terms in row order, as <see cref="WeightRows{TS, TJ}"/> alone does.
    /// </summary>
    private static void WeightTapRows(ref Vector<T> acc, nint slotStride, in WeightTileArgs a)
    {
        var g = a.G;
        // Input row ih meets dy row ih + p − i of tap row i: all three inside for ih in [ih0, ih1).
        int ih0 = Math.Min(g.InH, Math.Max(0, 2 - g.Padding)), ih1 = Math.Max(ih0, Math.Min(g.InH, g.OutH - g.Padding));
        for (int i = 0; i < 3; i++) WeightRows<TileCount3, TileCount3>(ref Unsafe.Add(ref acc, 3 * i), slotStride, a.ForTapRow(i), 0, ih0);
        WeightRowLoop<TapRowAccumulators>(ref acc, slotStride, a, ih0, ih1);
        for (int i = 0; i < 3; i++) WeightRows<TileCount3, TileCount3>(ref Unsafe.Add(ref acc, 3 * i), slotStride, a.ForTapRow(i), ih1, g.InH);
    }

    /// <summary>Tap rows 0, 1, 2 of a 3 × 3 kernel for three slots: input row ih meets dy row r − i of tap row i.</summary>
    private struct TapRowAccumulators : IWeightTile
    {
        public static int Slots => 3;
        public static int Columns => 3;

        private WeightAccumulators<TileCount3, TileCount3> _i0, _i1, _i2;

        /// <summary>Every tap's term of one vector of outputs; d0 … d2 are tap row 0's dy rows, each tap row's a row above.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TL>(T* x, T* d0, T* d1, T* d2, int ow0, int colOff, int inW, int outW) where TL : struct, IRowLoad<T>
        {
            // Tap row i's dy rows lie i rows above tap row 0's.
            int col = ow0 + colOff;
            Vector<T> x0 = TL.Load(x, col, inW), x1 = TL.Load(x, col + 1, inW), x2 = TL.Load(x, col + 2, inW);
            _i0.Add<TL>(x0, x1, x2, d0, d1, d2, ow0, outW);
            _i1.Add<TL>(x0, x1, x2, d0 - outW, d1 - outW, d2 - outW, ow0, outW);
            _i2.Add<TL>(x0, x1, x2, d0 - 2 * outW, d1 - 2 * outW, d2 - 2 * outW, ow0, outW);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref Vector<T> acc, nint slotStride)
        {
            _i0.Load(ref acc, slotStride);
            _i1.Load(ref Unsafe.Add(ref acc, 3), slotStride);
            _i2.Load(ref Unsafe.Add(ref acc, 6), slotStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(ref Vector<T> acc, nint slotStride)
        {
            _i0.Store(ref acc, slotStride);
            _i1.Store(ref Unsafe.Add(ref acc, 3), slotStride);
            _i2.Store(ref Unsafe.Add(ref acc, 6), slotStride);
        }
    }

    private static void WeightRows<TS, TJ>(ref Vector<T> acc, nint slotStride, in WeightTileArgs a) where TS : struct, ITileCount where TJ : struct, ITileCount =>
        WeightRows<TS, TJ>(ref acc, slotStride, a, 0, a.G.InH);

    /// <summary>The tile's terms from input rows [ih0, ih1).</summary>
    private static void WeightRows<TS, TJ>(ref Vector<T> acc, nint slotStride, in WeightTileArgs a, int ih0, int ih1) where TS : struct, ITileCount where TJ : struct, ITileCount =>
        WeightRowLoop<WeightAccumulators<TS, TJ>>(ref acc, slotStride, a, ih0, ih1);

    /// <summary>What <see cref="WeightRowLoop{TA}"/> runs: a tile of accumulators over Slots dy rows and Columns taps of a row.</summary>
    private interface IWeightTile
    {
        static abstract int Slots { get; }
        static abstract int Columns { get; }
        void Load(ref Vector<T> acc, nint slotStride);
        void Store(ref Vector<T> acc, nint slotStride);
        void Step<TL>(T* x, T* d0, T* d1, T* d2, int ow0, int colOff, int inW, int outW) where TL : struct, IRowLoad<T>;
    }

    private static void WeightRowLoop<TA>(ref Vector<T> acc, nint slotStride, in WeightTileArgs a, int ih0, int ih1) where TA : struct, IWeightTile
    {
        var g = a.G;
        int vc = Vector<T>.Count, inW = g.InW, outW = g.OutW, colOff = a.J0 - g.Padding;
        // Vectors starting at ow0 in [owLo, owHi] read inside the input row for all of the tile's taps and inside dy.
        int owLo = (Math.Max(0, -colOff) + vc - 1) / vc * vc;
        int owHi = Math.Min(inW - vc - colOff - (TA.Columns - 1), outW - vc);
        var t = new TA();
        t.Load(ref acc, slotStride);
        for (int ih = ih0; ih < ih1; ih++)
        {
            T* d0 = a.DyRow(ih, 0), d1 = TA.Slots > 1 ? a.DyRow(ih, 1) : a.Zeros, d2 = TA.Slots > 2 ? a.DyRow(ih, 2) : a.Zeros;
            if (d0 == a.Zeros && d1 == a.Zeros && d2 == a.Zeros) continue;
            T* xr = a.X + (nint)ih * inW;
            int ow0 = 0;
            for (; ow0 < outW && ow0 < owLo; ow0 += vc) t.Step<ClippedLoad<T>>(xr, d0, d1, d2, ow0, colOff, inW, outW);
            for (; ow0 <= owHi; ow0 += vc) t.Step<InteriorLoad<T>>(xr, d0, d1, d2, ow0, colOff, inW, outW);
            for (; ow0 < outW; ow0 += vc) t.Step<ClippedLoad<T>>(xr, d0, d1, d2, ow0, colOff, inW, outW);
        }
        t.Store(ref acc, slotStride);
    }

    /// <summary>A tile's TS × TJ accumulators; a local of it is promoted to registers (its methods inline).</summary>
    private struct WeightAccumulators<TS, TJ> : IWeightTile where TS : struct, ITileCount where TJ : struct, ITileCount
    {
        public static int Slots => TS.Value;
        public static int Columns => TJ.Value;

        private Vector<T> _a00, _a01, _a02, _a10, _a11, _a12, _a20, _a21, _a22;

        /// <summary>acc[s, j] += dy_s[ow0 …] · x[ow0 + colOff + j …] for one vector of outputs.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TL>(T* x, T* d0, T* d1, T* d2, int ow0, int colOff, int inW, int outW) where TL : struct, IRowLoad<T>
        {
            int col = ow0 + colOff;
            Vector<T> x0 = TL.Load(x, col, inW), x1 = default, x2 = default;
            if (TJ.Value > 1) x1 = TL.Load(x, col + 1, inW);
            if (TJ.Value > 2) x2 = TL.Load(x, col + 2, inW);
            Add<TL>(x0, x1, x2, d0, d1, d2, ow0, outW);
        }

        /// <summary>acc[s, j] += dy_s[ow0 …] · x_j, the input vectors x_j already loaded.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add<TL>(Vector<T> x0, Vector<T> x1, Vector<T> x2, T* d0, T* d1, T* d2, int ow0, int outW) where TL : struct, IRowLoad<T>
        {
            var d = TL.Load(d0, ow0, outW);
            _a00 = TileVector<T>.MulAdd(d, x0, _a00);
            if (TJ.Value > 1) _a01 = TileVector<T>.MulAdd(d, x1, _a01);
            if (TJ.Value > 2) _a02 = TileVector<T>.MulAdd(d, x2, _a02);
            if (TS.Value > 1)
            {
                d = TL.Load(d1, ow0, outW);
                _a10 = TileVector<T>.MulAdd(d, x0, _a10);
                if (TJ.Value > 1) _a11 = TileVector<T>.MulAdd(d, x1, _a11);
                if (TJ.Value > 2) _a12 = TileVector<T>.MulAdd(d, x2, _a12);
            }
            if (TS.Value > 2)
            {
                d = TL.Load(d2, ow0, outW);
                _a20 = TileVector<T>.MulAdd(d, x0, _a20);
                if (TJ.Value > 1) _a21 = TileVector<T>.MulAdd(d, x1, _a21);
                if (TJ.Value > 2) _a22 = TileVector<T>.MulAdd(d, x2, _a22);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref Vector<T> acc, nint slotStride)
        {
            _a00 = acc;
            if (TJ.Value > 1) _a01 = Unsafe.Add(ref acc, 1);
            if (TJ.Value > 2) _a02 = Unsafe.Add(ref acc, 2);
            if (TS.Value > 1)
            {
                ref var r = ref Unsafe.Add(ref acc, slotStride);
                _a10 = r;
                if (TJ.Value > 1) _a11 = Unsafe.Add(ref r, 1);
                if (TJ.Value > 2) _a12 = Unsafe.Add(ref r, 2);
            }
            if (TS.Value > 2)
            {
                ref var r = ref Unsafe.Add(ref acc, 2 * slotStride);
                _a20 = r;
                if (TJ.Value > 1) _a21 = Unsafe.Add(ref r, 1);
                if (TJ.Value > 2) _a22 = Unsafe.Add(ref r, 2);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(ref Vector<T> acc, nint slotStride)
        {
            acc = _a00;
            if (TJ.Value > 1) Unsafe.Add(ref acc, 1) = _a01;
            if (TJ.Value > 2) Unsafe.Add(ref acc, 2) = _a02;
            if (TS.Value > 1)
            {
                ref var r = ref Unsafe.Add(ref acc, slotStride);
                r = _a10;
                if (TJ.Value > 1) Unsafe.Add(ref r, 1) = _a11;
                if (TJ.Value > 2) Unsafe.Add(ref r, 2) = _a12;
            }
            if (TS.Value > 2)
            {
                ref var r = ref Unsafe.Add(ref acc, 2 * slotStride);
                r = _a20;
                if (TJ.Value > 1) Unsafe.Add(ref r, 1) = _a21;
                if (TJ.Value > 2) Unsafe.Add(ref r, 2) = _a22;
            }
        }
    }
}
