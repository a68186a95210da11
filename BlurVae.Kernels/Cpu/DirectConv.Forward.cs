namespace BlurVae.Kernels.Cpu;

/// <summary>
/// The stride-1 forward pass of the direct convolution (a decoder's last layer, 32→1 or 64→3 channels, and through
/// <see cref="DirectConv{T}.BackwardInput"/> its input gradient, 3→64): no padded copy of the input. A tile is up to
/// four output channels × up to four vectors of one output row, all accumulators in registers; each input vector load
/// feeds every channel of the tile, each weight broadcast every vector. The rows a tap would read above or below the
/// input are left out of the tap range; the tiles at the left and right ends of a row read with
/// <see cref="ClippedLoad{T}"/> (zero outside the row), all others with no test at all.
/// <para>
/// Every output is bias + Σ w·x over (ci, i, j) in the weight's order, whatever its tile, thread or position: the last
/// tile of a row lies flush with its end and recomputes the columns it shares with the one before, identically.
/// </para>
/// </summary>
internal static unsafe partial class DirectConv<T>
{
    private static void ForwardStride1(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g) =>
        ForEachChannelBlock(y, x, w, bias, g, g.InChannels * g.InH * g.InW, static (in ForwardTileArgs tile, int channels) =>
        {
            switch (channels)
            {
                // One channel: three output rows a tile (slots are rows), twelve accumulators, as the others.
                case 1: ForwardRowBlocks<TileCount3, TileCount4>(tile); break;
                case 2: ForwardRows<TileCount2, TileCount4>(tile, 0, tile.G.OutH); break;
                case 3:
                    if (WideRegisterFile) ForwardPairRows<TileCount3, TileCount4>(tile);
                    else ForwardRows<TileCount3, TileCount4>(tile, 0, tile.G.OutH);
                    break;
                // Four channels (3→64, the 64→3 layer's input gradient): 4 × 4 accumulators where 32 vector registers
                // allow it (4 loads + 4 broadcasts feed 16 FMAs instead of 2 + 4 feeding 8), else 4 × 2.
                default:
                    if (WideRegisterFile) ForwardRows<TileCount4, TileCount4>(tile, 0, tile.G.OutH);
                    else ForwardRows<TileCount4, TileCount2>(tile, 0, tile.G.OutH);
                    break;
            }
        });

    private delegate void ChannelBlock(in ForwardTileArgs tile, int channels);

    /// <summary>
    /// One task per (image, block of ≤ 4 output channels), 64 or more per batch, enough for the threads to balance:
    /// block(tile, channels) with y, x (an image of imageLength values) and w at the block's first channel.
    /// </summary>
    private static void ForEachChannelBlock(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g, int imageLength, ChannelBlock block)
    {
        int blocks = (g.OutChannels + 3) / 4;
        long cost = (long)g.OutH * g.OutW * Math.Min(4, g.OutChannels) * g.InChannels * g.KernelH * g.KernelW;
        Parallelism.ForEach(g.N * blocks, cost, item =>
        {
            int n = item / blocks, co0 = item % blocks * 4;
            fixed (T* px = x, pw = w, py = y, pb = bias)
                block(new ForwardTileArgs(
                    py + ((nint)n * g.OutChannels + co0) * g.OutH * g.OutW,
                    px + (nint)n * imageLength,
                    pw + (nint)co0 * g.InChannels * g.KernelH * g.KernelW,
                    pb == null ? null : pb + co0,
                    g), Math.Min(4, g.OutChannels - co0));
        });
    }

    /// <summary>One image's block of output channels: y, x and w at its first channel; bias null for none.</summary>
    private readonly struct ForwardTileArgs(T* y, T* x, T* w, T* bias, ConvGeometry g)
    {
        public readonly T* Y = y, X = x, W = w, Bias = bias;
        public readonly ConvGeometry G = g;
        public readonly int Padding = g.Padding;
    }

    /// <summary>Output rows [oh0, oh1) of TC channels, TV vectors a tile.</summary>
    private static void ForwardRows<TC, TV>(in ForwardTileArgs a, int oh0, int oh1) where TC : struct, ITileCount where TV : struct, ITileCount
    {
        for (int oh = oh0; oh < oh1; oh++) ForwardRowTiles<TC, TV, ChannelSlots>(a, oh);
    }

    /// <summary>
    /// Every output row as pairs of side-by-side tiles (the last pair flush with the row's end), where a row holds two:
    /// the pair shares each weight broadcast and each pass over the taps, 3 × 8 accumulators in 32 registers. Only the
    /// pair's outer vectors can reach past the row (padding ≤ one vector), so the inner ones read without a test.
    /// </summary>
    private static void ForwardPairRows<TC, TV>(in ForwardTileArgs a) where TC : struct, ITileCount where TV : struct, ITileCount
    {
        var g = a.G;
        int width = TV.Value * Vector<T>.Count, last = g.OutW - 2 * width;
        if (last < 0 || a.Padding > Vector<T>.Count)
        {
            ForwardRows<TC, TV>(a, 0, g.OutH);
            return;
        }
        for (int oh = 0; oh < g.OutH; oh++)
        {
            int i0 = Math.Max(0, a.Padding - oh), i1 = Math.Min(g.KernelH, g.InH + a.Padding - oh);
            for (int ow0 = 0; ; ow0 = Math.Min(ow0 + 2 * width, last))
            {
                ForwardTilePair<TC, TV>(a, oh, ow0, i0, i1);
                if (ow0 == last) break;
            }
        }
    }

    /// <summary>Two tiles of TC channels × TV vectors, at ow0 and ow0 + TV·vc, in one pass over the taps.</summary>
    private static void ForwardTilePair<TC, TV>(in ForwardTileArgs a, int oh, int ow0, int i0, int i1) where TC : struct, ITileCount where TV : struct, ITileCount
    {
        var g = a.G;
        int kw = g.KernelW, inW = g.InW, taps = g.KernelH * kw, p = a.Padding, ow1 = ow0 + TV.Value * Vector<T>.Count;
        nint plane = (nint)g.InH * inW, wSlot = (nint)g.InChannels * taps, outPlane = (nint)g.OutH * g.OutW;
        var left = new ForwardAccumulators<TC, TV>();
        var right = new ForwardAccumulators<TC, TV>();
        if (a.Bias != null)
        {
            left.Init(a.Bias, 1);
            right.Init(a.Bias, 1);
        }
        for (int ci = 0; ci < g.InChannels; ci++)
        {
            T* xc = a.X + ci * plane;
            T* wci = a.W + ci * taps;
            Prefetch(xc + (nint)(oh + i1 - p) * inW + ow0 - p, 2 * TV.Value * Vector<T>.Count + kw);
            for (int i = i0; i < i1; i++)
            {
                T* xr = xc + (nint)(oh + i - p) * inW;
                T* wr = wci + i * kw;
                for (int j = 0; j < kw; j++)
                {
                    left.StepChannels<ClippedLoad<T>, InteriorLoad<T>, InteriorLoad<T>>(xr, ow0 + j - p, inW, wr + j, wSlot);
                    right.StepChannels<InteriorLoad<T>, InteriorLoad<T>, ClippedLoad<T>>(xr, ow1 + j - p, inW, wr + j, wSlot);
                }
            }
        }
        T* y = a.Y + (nint)oh * g.OutW;
        left.Store(y + ow0, outPlane, g.OutW - ow0);
        right.Store(y + ow1, outPlane, g.OutW - ow1);
    }

    /// <summary>
    /// Asks for the cache lines of x[0 … count) ahead of use: the input row the next output row reads first. Each channel's
    /// rows lie a plane apart, one stream per channel, more than the hardware prefetcher follows, so without this each new
    /// row came from memory at its full latency. A prefetch never faults, so a row past the image's end costs nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(T* x, int count)
    {
        if (!Sse.IsSupported) return;
        for (int c = 0; c < count; c += 64 / sizeof(T)) Sse.Prefetch0(x + c);
        Sse.Prefetch0(x + count - 1);
    }

    /// <summary>
    /// One output channel: rows whose taps all lie inside the image go TR at a time (the last block flush with the
    /// end of them, recomputing its overlap identically), the rows at the top and bottom one at a time.
    /// </summary>
    private static void ForwardRowBlocks<TR, TV>(in ForwardTileArgs a) where TR : struct, ITileCount where TV : struct, ITileCount
    {
        var g = a.G;
        int inner0 = Math.Min(a.Padding, g.OutH), inner1 = Math.Max(inner0, Math.Min(g.OutH, g.InH + a.Padding - g.KernelH + 1));
        if (inner1 - inner0 < TR.Value)
        {
            ForwardRows<TileCount1, TV>(a, 0, g.OutH);
            return;
        }
        ForwardRows<TileCount1, TV>(a, 0, inner0);
        for (int oh = inner0; ; oh = Math.Min(oh + TR.Value, inner1 - TR.Value))
        {
            ForwardRowTiles<TR, TV, RowSlots>(a, oh);
            if (oh == inner1 - TR.Value) break;
        }
        ForwardRows<TileCount1, TV>(a, inner1, g.OutH);
    }

    private static void ForwardRowTiles<TC, TV, TS>(in ForwardTileArgs a, int oh) where TC : struct, ITileCount where TV : struct, ITileCount where TS : struct, ISlotKind
    {
        var g = a.G;
        int width = TV.Value * Vector<T>.Count, p = a.Padding;
        int last = Math.Max(0, g.OutW - width);
        // Taps whose input row lies outside the image add nothing: clip them here, once per row (row slots: all inside).
        int i0 = Math.Max(0, p - oh), i1 = Math.Min(g.KernelH, g.InH + p - oh);
        for (int ow0 = 0; ; ow0 = Math.Min(ow0 + width, last))
        {
            // Which of the tile's vectors read inside the row for every tap: its first, its middle ones, its last.
            bool first = Inside(a, ow0, 1), last1 = Inside(a, ow0 + width - Vector<T>.Count, 1);
            bool middle = TV.Value < 3 || Inside(a, ow0 + Vector<T>.Count, TV.Value - 2);
            if (!middle || (TV.Value == 1 && !(first && last1)))
                ForwardTile<TC, TV, TS, ClippedLoad<T>, ClippedLoad<T>, ClippedLoad<T>>(a, oh, ow0, i0, i1);
            else if (first && last1)
                ForwardTile<TC, TV, TS, InteriorLoad<T>, InteriorLoad<T>, InteriorLoad<T>>(a, oh, ow0, i0, i1);
            else if (last1)
                ForwardTile<TC, TV, TS, ClippedLoad<T>, InteriorLoad<T>, InteriorLoad<T>>(a, oh, ow0, i0, i1);
            else if (first)
                ForwardTile<TC, TV, TS, InteriorLoad<T>, InteriorLoad<T>, ClippedLoad<T>>(a, oh, ow0, i0, i1);
            else
                ForwardTile<TC, TV, TS, ClippedLoad<T>, InteriorLoad<T>, ClippedLoad<T>>(a, oh, ow0, i0, i1);
            if (ow0 == last) break;
        }
    }

    // Whether `vectors` vectors of outputs from column ow read only columns of [0, InW), for every tap.
    private static bool Inside(in ForwardTileArgs a, int ow, int vectors) =>
        ow >= a.Padding && ow + vectors * Vector<T>.Count + a.G.KernelW - 1 - a.Padding <= a.G.InW;

    /// <summary>
    /// y[co0 + c, oh, ow0 + v·vc …] for c &lt; TC (channel slots) or y[co0, oh + c, ow0 + v·vc …] (row slots), v &lt; TV;
    /// only the columns below OutW are stored.
    /// </summary>
    private static void ForwardTile<TC, TV, TS, TFirst, TMiddle, TLast>(in ForwardTileArgs a, int oh, int ow0, int i0, int i1)
        where TC : struct, ITileCount where TV : struct, ITileCount where TS : struct, ISlotKind
        where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
    {
        var g = a.G;
        int kw = g.KernelW, inW = g.InW, taps = g.KernelH * kw, p = a.Padding;
        nint plane = (nint)g.InH * inW, wSlot = (nint)g.InChannels * taps, outPlane = (nint)g.OutH * g.OutW;
        var acc = new ForwardAccumulators<TC, TV>();
        if (a.Bias != null) acc.Init(a.Bias, TS.Rows ? 0 : 1);
        for (int ci = 0; ci < g.InChannels; ci++)
        {
            T* xc = a.X + ci * plane;
            T* wci = a.W + ci * taps;
            for (int i = i0; i < i1; i++)
            {
                T* xr = xc + (nint)(oh + i - p) * inW;
                T* wr = wci + i * kw;
                for (int j = 0; j < kw; j++)
                {
                    if (TS.Rows) acc.StepRows<TFirst, TMiddle, TLast>(xr, inW, ow0 + j - p, inW, wr[j]);
                    else acc.StepChannels<TFirst, TMiddle, TLast>(xr, ow0 + j - p, inW, wr + j, wSlot);
                }
            }
        }
        acc.Store(a.Y + (nint)oh * g.OutW + ow0, TS.Rows ? g.OutW : outPlane, g.OutW - ow0);
    }

    /// <summary>
    /// A forward tile's TC slots of TV vectors. A local of it is promoted to registers: its methods and those of its
    /// slots inline, and nothing passes an accumulator by ref (helpers that did kept all of them in memory).
    /// </summary>
    private struct ForwardAccumulators<TC, TV> where TC : struct, ITileCount where TV : struct, ITileCount
    {
        private SlotVectors<TV> _s0, _s1, _s2, _s3;

        /// <summary>Every accumulator of slot c starts at bias[c · biasSlot].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Init(T* bias, int biasSlot)
        {
            _s0.Init(bias[0]);
            if (TC.Value > 1) _s1.Init(bias[biasSlot]);
            if (TC.Value > 2) _s2.Init(bias[2 * biasSlot]);
            if (TC.Value > 3) _s3.Init(bias[3 * biasSlot]);
        }

        /// <summary>Channel slots: slot c += w[c·wSlot] · x[col + v·vc …]; each vector of x is loaded once for all slots.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StepChannels<TFirst, TMiddle, TLast>(T* x, int col, int inW, T* w, nint wSlot)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            // The TC weights stay in registers and each x vector dies after its TC uses: 3 × 4 accumulators + 3 + 1 = 16 ymm.
            Vector<T> w0 = new(w[0]), w1 = default, w2 = default, w3 = default;
            if (TC.Value > 1) w1 = new Vector<T>(w[wSlot]);
            if (TC.Value > 2) w2 = new Vector<T>(w[2 * wSlot]);
            if (TC.Value > 3) w3 = new Vector<T>(w[3 * wSlot]);
            Channels(0, SlotVectors<TV>.Load<TFirst, TMiddle, TLast>(0, x, col, inW), w0, w1, w2, w3);
            if (TV.Value > 1) Channels(1, SlotVectors<TV>.Load<TFirst, TMiddle, TLast>(1, x, col, inW), w0, w1, w2, w3);
            if (TV.Value > 2) Channels(2, SlotVectors<TV>.Load<TFirst, TMiddle, TLast>(2, x, col, inW), w0, w1, w2, w3);
            if (TV.Value > 3) Channels(3, SlotVectors<TV>.Load<TFirst, TMiddle, TLast>(3, x, col, inW), w0, w1, w2, w3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Channels(int v, Vector<T> x, Vector<T> w0, Vector<T> w1, Vector<T> w2, Vector<T> w3)
        {
            _s0.Add(v, w0, x);
            if (TC.Value > 1) _s1.Add(v, w1, x);
            if (TC.Value > 2) _s2.Add(v, w2, x);
            if (TC.Value > 3) _s3.Add(v, w3, x);
        }

        /// <summary>Row slots: slot c += w · x[c·xSlot + col + v·vc …]; the weight is broadcast once for all slots.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StepRows<TFirst, TMiddle, TLast>(T* x, nint xSlot, int col, int inW, T w)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            var wv = new Vector<T>(w);
            _s0.AddRow<TFirst, TMiddle, TLast>(wv, x, col, inW);
            if (TC.Value > 1) _s1.AddRow<TFirst, TMiddle, TLast>(wv, x + xSlot, col, inW);
            if (TC.Value > 2) _s2.AddRow<TFirst, TMiddle, TLast>(wv, x + 2 * xSlot, col, inW);
            if (TC.Value > 3) _s3.AddRow<TFirst, TMiddle, TLast>(wv, x + 3 * xSlot, col, inW);
        }

        /// <summary>Slot c's TV vectors at y + c·ySlot, no further than `lanes` values (a row narrower than the tile).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(T* y, nint ySlot, int lanes)
        {
            _s0.Store(y, lanes);
            if (TC.Value > 1) _s1.Store(y + ySlot, lanes);
            if (TC.Value > 2) _s2.Store(y + 2 * ySlot, lanes);
            if (TC.Value > 3) _s3.Store(y + 3 * ySlot, lanes);
        }
    }

    /// <summary>One slot's TV vectors of outputs; v is a constant at every call, so each method folds to one line.</summary>
    private struct SlotVectors<TV> where TV : struct, ITileCount
    {
        private Vector<T> _v0, _v1, _v2, _v3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Init(T bias) => _v0 = _v1 = _v2 = _v3 = new Vector<T>(bias);

        /// <summary>Vector v += w · x.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int v, Vector<T> w, Vector<T> x)
        {
            if (v == 0) _v0 = TileVector<T>.MulAdd(w, x, _v0);
            else if (v == 1) _v1 = TileVector<T>.MulAdd(w, x, _v1);
            else if (v == 2) _v2 = TileVector<T>.MulAdd(w, x, _v2);
            else _v3 = TileVector<T>.MulAdd(w, x, _v3);
        }

        /// <summary>Vector v += w · x[col + v·vc …] for every v.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddRow<TFirst, TMiddle, TLast>(Vector<T> w, T* x, int col, int inW)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            Add(0, w, Load<TFirst, TMiddle, TLast>(0, x, col, inW));
            if (TV.Value > 1) Add(1, w, Load<TFirst, TMiddle, TLast>(1, x, col, inW));
            if (TV.Value > 2) Add(2, w, Load<TFirst, TMiddle, TLast>(2, x, col, inW));
            if (TV.Value > 3) Add(3, w, Load<TFirst, TMiddle, TLast>(3, x, col, inW));
        }

        /// <summary>Vector v of a tile from x[col …]: the first reads with TFirst, the last with TLast, others with TMiddle.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<T> Load<TFirst, TMiddle, TLast>(int v, T* x, int col, int inW)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            int c = col + v * Vector<T>.Count;
            if (v == 0) return TFirst.Load(x, c, inW);
            return v == TV.Value - 1 ? TLast.Load(x, c, inW) : TMiddle.Load(x, c, inW);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(T* y, int lanes)
        {
            int vc = Vector<T>.Count;
            if (lanes >= TV.Value * vc)
            {
                _v0.Store(y);
                if (TV.Value > 1) _v1.Store(y + vc);
                if (TV.Value > 2) _v2.Store(y + 2 * vc);
                if (TV.Value > 3) _v3.Store(y + 3 * vc);
                return;
            }
            StorePartial(y, lanes, _v0);
            if (TV.Value > 1) StorePartial(y + vc, lanes - vc, _v1);
            if (TV.Value > 2) StorePartial(y + 2 * vc, lanes - 2 * vc, _v2);
            if (TV.Value > 3) StorePartial(y + 3 * vc, lanes - 3 * vc, _v3);
        }

        private static void StorePartial(T* y, int lanes, Vector<T> v)
        {
            for (int l = 0; l < Math.Min(lanes, Vector<T>.Count); l++) y[l] = v[l];
        }
    }
}
