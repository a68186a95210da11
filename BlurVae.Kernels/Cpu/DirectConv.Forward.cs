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
                    case 1: ForwardRows<TileCount1, TileCount4>(tile); break;
                    case 2: ForwardRows<TileCount2, TileCount4>(tile); break;
                    case 3: ForwardRows<TileCount3, TileCount2>(tile); break;
                    default: ForwardRows<TileCount4, TileCount2>(tile); break;
                }
            }
        });
    }

    /// <summary>One image's block of output channels: y, x and w at its first channel; bias null for none.</summary>
    private readonly struct ForwardTileArgs(T* y, T* x, T* w, T* bias, ConvGeometry g)
    {
        public readonly T* Y = y, X = x, W = w, Bias = bias;
        public readonly ConvGeometry G = g;
    }

    private static void ForwardRows<TC, TV>(ForwardTileArgs a) where TC : struct, ITileCount where TV : struct, ITileCount
    {
        var g = a.G;
        int width = TV.Value * Vector<T>.Count, p = g.Padding;
        int last = Math.Max(0, g.OutW - width);
        for (int oh = 0; oh < g.OutH; oh++)
        {
            // Taps whose input row lies outside the image add nothing: clip them here, once per row.
            int i0 = Math.Max(0, p - oh), i1 = Math.Min(g.KernelH, g.InH + p - oh);
            for (int ow0 = 0; ; ow0 = Math.Min(ow0 + width, last))
            {
                // Inside: every tap of every lane reads a column of [0, InW).
                if (ow0 >= p && ow0 + width + g.KernelW - 1 - p <= g.InW)
                    ForwardTile<TC, TV, InteriorLoad<T>>(a, oh, ow0, i0, i1);
                else
                    ForwardTile<TC, TV, ClippedLoad<T>>(a, oh, ow0, i0, i1);
                if (ow0 == last) break;
            }
        }
    }

    /// <summary>y[co0 + c, oh, ow0 + v·vc …] for c &lt; TC, v &lt; TV (only the columns below OutW are stored).</summary>
    private static void ForwardTile<TC, TV, TL>(ForwardTileArgs a, int oh, int ow0, int i0, int i1)
        where TC : struct, ITileCount where TV : struct, ITileCount where TL : struct, IRowLoad<T>
    {
        var g = a.G;
        int vc = Vector<T>.Count, kw = g.KernelW, inW = g.InW, taps = g.KernelH * kw;
        nint plane = (nint)g.InH * inW, wChannel = (nint)g.InChannels * taps;
        Vector<T> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector<T> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        if (a.Bias != null)
        {
            a00 = a01 = a02 = a03 = new Vector<T>(a.Bias[0]);
            if (TC.Value > 1) a10 = a11 = a12 = a13 = new Vector<T>(a.Bias[1]);
            if (TC.Value > 2) a20 = a21 = a22 = a23 = new Vector<T>(a.Bias[2]);
            if (TC.Value > 3) a30 = a31 = a32 = a33 = new Vector<T>(a.Bias[3]);
        }
        for (int ci = 0; ci < g.InChannels; ci++)
        {
            T* xc = a.X + ci * plane;
            T* wci = a.W + ci * taps;
            for (int i = i0; i < i1; i++)
            {
                T* xr = xc + (nint)(oh + i - g.Padding) * inW;
                T* wr = wci + i * kw;
                for (int j = 0; j < kw; j++)
                {
                    int col = ow0 + j - g.Padding;
                    Vector<T> x0 = TL.Load(xr, col, inW), x1 = default, x2 = default, x3 = default;
                    if (TV.Value > 1) x1 = TL.Load(xr, col + vc, inW);
                    if (TV.Value > 2) x2 = TL.Load(xr, col + 2 * vc, inW);
                    if (TV.Value > 3) x3 = TL.Load(xr, col + 3 * vc, inW);
                    var wv = new Vector<T>(wr[j]);
                    a00 = TileVector<T>.MulAdd(wv, x0, a00);
                    if (TV.Value > 1) a01 = TileVector<T>.MulAdd(wv, x1, a01);
                    if (TV.Value > 2) a02 = TileVector<T>.MulAdd(wv, x2, a02);
                    if (TV.Value > 3) a03 = TileVector<T>.MulAdd(wv, x3, a03);
                    if (TC.Value > 1)
                    {
                        wv = new Vector<T>(wr[j + wChannel]);
                        a10 = TileVector<T>.MulAdd(wv, x0, a10);
                        if (TV.Value > 1) a11 = TileVector<T>.MulAdd(wv, x1, a11);
                        if (TV.Value > 2) a12 = TileVector<T>.MulAdd(wv, x2, a12);
                        if (TV.Value > 3) a13 = TileVector<T>.MulAdd(wv, x3, a13);
                    }
                    if (TC.Value > 2)
                    {
                        wv = new Vector<T>(wr[j + 2 * wChannel]);
                        a20 = TileVector<T>.MulAdd(wv, x0, a20);
                        if (TV.Value > 1) a21 = TileVector<T>.MulAdd(wv, x1, a21);
                        if (TV.Value > 2) a22 = TileVector<T>.MulAdd(wv, x2, a22);
                        if (TV.Value > 3) a23 = TileVector<T>.MulAdd(wv, x3, a23);
                    }
                    if (TC.Value > 3)
                    {
                        wv = new Vector<T>(wr[j + 3 * wChannel]);
                        a30 = TileVector<T>.MulAdd(wv, x0, a30);
                        if (TV.Value > 1) a31 = TileVector<T>.MulAdd(wv, x1, a31);
                        if (TV.Value > 2) a32 = TileVector<T>.MulAdd(wv, x2, a32);
                        if (TV.Value > 3) a33 = TileVector<T>.MulAdd(wv, x3, a33);
                    }
                }
            }
        }
        nint outPlane = (nint)g.OutH * g.OutW;
        T* y = a.Y + (nint)oh * g.OutW + ow0;
        int lanes = g.OutW - ow0;
        StoreTileRow<TV>(y, lanes, a00, a01, a02, a03);
        if (TC.Value > 1) StoreTileRow<TV>(y + outPlane, lanes, a10, a11, a12, a13);
        if (TC.Value > 2) StoreTileRow<TV>(y + 2 * outPlane, lanes, a20, a21, a22, a23);
        if (TC.Value > 3) StoreTileRow<TV>(y + 3 * outPlane, lanes, a30, a31, a32, a33);
    }

    // The first TV vectors at y, no further than `lanes` values (a row narrower than the tile).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTileRow<TV>(T* y, int lanes, Vector<T> v0, Vector<T> v1, Vector<T> v2, Vector<T> v3) where TV : struct, ITileCount
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
