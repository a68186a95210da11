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
    private static void ForwardStride1(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g)
    {
        int blocks = (g.OutChannels + 3) / 4;
        long cost = (long)g.OutH * g.OutW * Math.Min(4, g.OutChannels) * g.InChannels * g.KernelH * g.KernelW;
        // One task per (image, block of ≤ 4 output channels): 64 or more per batch, enough for the threads to balance.
        Parallelism.ForEach(g.N * blocks, cost, item =>
        {
            int n = item / blocks, co0 = item % blocks * 4, c = Math.Min(4, g.OutChannels - co0);
            fixed (T* px = x, pw = w, py = y, pb = bias)
            {
                var tile = new ForwardTileArgs(
                    py + ((nint)n * g.OutChannels + co0) * g.OutH * g.OutW,
                    px + (nint)n * g.InChannels * g.InH * g.InW,
                    pw + (nint)co0 * g.InChannels * g.KernelH * g.KernelW,
                    pb == null ? null : pb + co0,
                    g);
                switch (c)
                {
                    // One channel: three output rows a tile (slots are rows), twelve accumulators, as the others.
                    case 1: ForwardRowBlocks<TileCount3, TileCount4>(tile); break;
                    case 2: ForwardRows<TileCount2, TileCount4>(tile, 0, g.OutH); break;
                    case 3: ForwardRows<TileCount3, TileCount4>(tile, 0, g.OutH); break;
                    default: ForwardRows<TileCount4, TileCount2>(tile, 0, g.OutH); break;
                }
            }
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

    /// <summary>A forward tile's TC × TV accumulators; a local of it is promoted to registers (its methods inline).</summary>
    private struct ForwardAccumulators<TC, TV> where TC : struct, ITileCount where TV : struct, ITileCount
    {
        private Vector<T> _a00, _a01, _a02, _a03, _a10, _a11, _a12, _a13, _a20, _a21, _a22, _a23, _a30, _a31, _a32, _a33;

        /// <summary>Every accumulator of slot c starts at bias[c · biasSlot].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Init(T* bias, int biasSlot)
        {
            _a00 = _a01 = _a02 = _a03 = new Vector<T>(bias[0]);
            _a10 = _a11 = _a12 = _a13 = new Vector<T>(bias[biasSlot]);
            _a20 = _a21 = _a22 = _a23 = new Vector<T>(bias[2 * biasSlot]);
            _a30 = _a31 = _a32 = _a33 = new Vector<T>(bias[3 * biasSlot]);
        }

        /// <summary>Channel slots: slot c += w[c·wSlot] · x[col + v·vc …]; each vector of x is loaded once for all slots.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StepChannels<TFirst, TMiddle, TLast>(T* x, int col, int inW, T* w, nint wSlot)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            // Written out, not through helpers taking the accumulators by ref: that kept them in memory.
            int vc = Vector<T>.Count;
            Vector<T> w0 = new(w[0]), w1 = default, w2 = default, w3 = default;
            if (TC.Value > 1) w1 = new Vector<T>(w[wSlot]);
            if (TC.Value > 2) w2 = new Vector<T>(w[2 * wSlot]);
            if (TC.Value > 3) w3 = new Vector<T>(w[3 * wSlot]);
            var xv = TFirst.Load(x, col, inW);
            _a00 = TileVector<T>.MulAdd(w0, xv, _a00);
            if (TC.Value > 1) _a10 = TileVector<T>.MulAdd(w1, xv, _a10);
            if (TC.Value > 2) _a20 = TileVector<T>.MulAdd(w2, xv, _a20);
            if (TC.Value > 3) _a30 = TileVector<T>.MulAdd(w3, xv, _a30);
            if (TV.Value > 1)
            {
                xv = Load<TV, TMiddle, TLast>(1, x, col + vc, inW);
                _a01 = TileVector<T>.MulAdd(w0, xv, _a01);
                if (TC.Value > 1) _a11 = TileVector<T>.MulAdd(w1, xv, _a11);
                if (TC.Value > 2) _a21 = TileVector<T>.MulAdd(w2, xv, _a21);
                if (TC.Value > 3) _a31 = TileVector<T>.MulAdd(w3, xv, _a31);
            }
            if (TV.Value > 2)
            {
                xv = Load<TV, TMiddle, TLast>(2, x, col + 2 * vc, inW);
                _a02 = TileVector<T>.MulAdd(w0, xv, _a02);
                if (TC.Value > 1) _a12 = TileVector<T>.MulAdd(w1, xv, _a12);
                if (TC.Value > 2) _a22 = TileVector<T>.MulAdd(w2, xv, _a22);
                if (TC.Value > 3) _a32 = TileVector<T>.MulAdd(w3, xv, _a32);
            }
            if (TV.Value > 3)
            {
                xv = TLast.Load(x, col + 3 * vc, inW);
                _a03 = TileVector<T>.MulAdd(w0, xv, _a03);
                if (TC.Value > 1) _a13 = TileVector<T>.MulAdd(w1, xv, _a13);
                if (TC.Value > 2) _a23 = TileVector<T>.MulAdd(w2, xv, _a23);
                if (TC.Value > 3) _a33 = TileVector<T>.MulAdd(w3, xv, _a33);
            }
        }

        /// <summary>Row slots: slot c += w · x[c·xSlot + col + v·vc …]; the weight is broadcast once for all slots.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StepRows<TFirst, TMiddle, TLast>(T* x, nint xSlot, int col, int inW, T w)
            where TFirst : struct, IRowLoad<T> where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T>
        {
            int vc = Vector<T>.Count, c1 = col + vc, c2 = col + 2 * vc, c3 = col + 3 * vc;
            var wv = new Vector<T>(w);
            _a00 = TileVector<T>.MulAdd(wv, TFirst.Load(x, col, inW), _a00);
            if (TV.Value > 1) _a01 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(1, x, c1, inW), _a01);
            if (TV.Value > 2) _a02 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(2, x, c2, inW), _a02);
            if (TV.Value > 3) _a03 = TileVector<T>.MulAdd(wv, TLast.Load(x, c3, inW), _a03);
            if (TC.Value > 1)
            {
                T* r = x + xSlot;
                _a10 = TileVector<T>.MulAdd(wv, TFirst.Load(r, col, inW), _a10);
                if (TV.Value > 1) _a11 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(1, r, c1, inW), _a11);
                if (TV.Value > 2) _a12 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(2, r, c2, inW), _a12);
                if (TV.Value > 3) _a13 = TileVector<T>.MulAdd(wv, TLast.Load(r, c3, inW), _a13);
            }
            if (TC.Value > 2)
            {
                T* r = x + 2 * xSlot;
                _a20 = TileVector<T>.MulAdd(wv, TFirst.Load(r, col, inW), _a20);
                if (TV.Value > 1) _a21 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(1, r, c1, inW), _a21);
                if (TV.Value > 2) _a22 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(2, r, c2, inW), _a22);
                if (TV.Value > 3) _a23 = TileVector<T>.MulAdd(wv, TLast.Load(r, c3, inW), _a23);
            }
            if (TC.Value > 3)
            {
                T* r = x + 3 * xSlot;
                _a30 = TileVector<T>.MulAdd(wv, TFirst.Load(r, col, inW), _a30);
                if (TV.Value > 1) _a31 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(1, r, c1, inW), _a31);
                if (TV.Value > 2) _a32 = TileVector<T>.MulAdd(wv, Load<TV, TMiddle, TLast>(2, r, c2, inW), _a32);
                if (TV.Value > 3) _a33 = TileVector<T>.MulAdd(wv, TLast.Load(r, c3, inW), _a33);
            }
        }

        // Vector v (1 or 2) of a tile: the last one, or a middle one.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<T> Load<TVectors, TMiddle, TLast>(int v, T* x, int col, int inW)
            where TVectors : struct, ITileCount where TMiddle : struct, IRowLoad<T> where TLast : struct, IRowLoad<T> =>
            v == TVectors.Value - 1 ? TLast.Load(x, col, inW) : TMiddle.Load(x, col, inW);

        /// <summary>Slot c's TV vectors at y + c·ySlot, no further than `lanes` values (a row narrower than the tile).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(T* y, nint ySlot, int lanes)
        {
            StoreSlot(y, lanes, _a00, _a01, _a02, _a03);
            if (TC.Value > 1) StoreSlot(y + ySlot, lanes, _a10, _a11, _a12, _a13);
            if (TC.Value > 2) StoreSlot(y + 2 * ySlot, lanes, _a20, _a21, _a22, _a23);
            if (TC.Value > 3) StoreSlot(y + 3 * ySlot, lanes, _a30, _a31, _a32, _a33);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreSlot(T* y, int lanes, Vector<T> v0, Vector<T> v1, Vector<T> v2, Vector<T> v3)
        {
            int vc = Vector<T>.Count;
            if (lanes >= TV.Value * vc)
            {
                v0.Store(y);
                if (TV.Value > 1) v1.Store(y + vc);
                if (TV.Value > 2) v2.Store(y + 2 * vc);
                if (TV.Value > 3) v3.Store(y + 3 * vc);
                return;
            }
            StorePartial(y, lanes, v0);
            if (TV.Value > 1) StorePartial(y + vc, lanes - vc, v1);
            if (TV.Value > 2) StorePartial(y + 2 * vc, lanes - 2 * vc, v2);
            if (TV.Value > 3) StorePartial(y + 3 * vc, lanes - 3 * vc, v3);
        }

        private static void StorePartial(T* y, int lanes, Vector<T> v)
        {
            for (int l = 0; l < Math.Min(lanes, Vector<T>.Count); l++) y[l] = v[l];
        }
    }
}
