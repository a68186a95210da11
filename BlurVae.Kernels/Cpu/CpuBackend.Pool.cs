namespace BlurVae.Kernels.Cpu;

// 2-D max and average pooling, fixed or adaptive windows (PoolGeometry holds PyTorch's window rule). The maximum's
// gradient goes to the first maximal pixel of its window in row-major order, as PyTorch's saved index does; the
// backward finds it again from x instead of saving it.
public sealed partial class CpuBackend
{
    public void Pool2dForward(BackendBuffer y, BackendBuffer x, PoolGeometry g)
    {
        ShapeRules.Length(x, g.InputLength, nameof(x));
        ShapeRules.Length(y, g.OutputLength, nameof(y));
        if (IsF32(x)) Pool<float>.Forward(Arr<float>(y), Arr<float>(x), g);
        else Pool<double>.Forward(Arr<double>(y), Arr<double>(x), g);
    }

    public void Pool2dBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer x, PoolGeometry g)
    {
        ShapeRules.Length(dx, g.InputLength, nameof(dx));
        ShapeRules.Length(dy, g.OutputLength, nameof(dy));
        ShapeRules.Length(x, g.InputLength, nameof(x));
        if (IsF32(dy)) Pool<float>.Backward(Arr<float>(dx), Arr<float>(dy), Arr<float>(x), g);
        else Pool<double>.Backward(Arr<double>(dx), Arr<double>(dy), Arr<double>(x), g);
    }

    private static class Pool<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static void Forward(T[] y, T[] x, PoolGeometry g)
        {
            var (rows, cols) = Windows(g);
            Parallelism.ForEach(g.Planes, (long)g.OutH * g.OutW * 9, p =>
            {
                var src = x.AsSpan(p * g.InH * g.InW, g.InH * g.InW);
                var dst = y.AsSpan(p * g.OutH * g.OutW, g.OutH * g.OutW);
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        var (r, c) = (rows[oh], cols[ow]);
                        if (g.Mode == PoolMode.Max)
                        {
                            dst[oh * g.OutW + ow] = src[ArgMax(src, g.InW, r, c)];
                            continue;
                        }
                        T sum = T.Zero;
                        for (int i = r.Start; i < r.End; i++)
                            for (int j = c.Start; j < c.End; j++) sum += src[i * g.InW + j];
                        dst[oh * g.OutW + ow] = sum / Divisor(g, r, c);
                    }
            });
        }

        public static void Backward(T[] dx, T[] dy, T[] x, PoolGeometry g)
        {
            var (rows, cols) = Windows(g);
            Parallelism.ForEach(g.Planes, (long)g.OutH * g.OutW * 9, p =>
            {
                var src = x.AsSpan(p * g.InH * g.InW, g.InH * g.InW);
                var grad = dy.AsSpan(p * g.OutH * g.OutW, g.OutH * g.OutW);
                var dst = dx.AsSpan(p * g.InH * g.InW, g.InH * g.InW);
                dst.Clear();
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        var (r, c) = (rows[oh], cols[ow]);
                        T d = grad[oh * g.OutW + ow];
                        if (g.Mode == PoolMode.Max)
                        {
                            dst[ArgMax(src, g.InW, r, c)] += d;
                            continue;
                        }
                        T share = d / Divisor(g, r, c);
                        for (int i = r.Start; i < r.End; i++)
                            for (int j = c.Start; j < c.End; j++) dst[i * g.InW + j] += share;
                    }
            });
        }

        private static ((int Start, int End, int Extent)[] Rows, (int Start, int End, int Extent)[] Cols) Windows(PoolGeometry g) =>
            (Enumerable.Range(0, g.OutH).Select(o => g.Window(o, rows: true)).ToArray(),
             Enumerable.Range(0, g.OutW).Select(o => g.Window(o, rows: false)).ToArray());

        // The first maximum in row-major order (PyTorch: a later pixel replaces the maximum only if strictly greater,
        // or NaN). Every window holds at least one input pixel (PoolGeometry's padding rule).
        private static int ArgMax(ReadOnlySpan<T> plane, int w, (int Start, int End, int Extent) r, (int Start, int End, int Extent) c)
        {
            int best = r.Start * w + c.Start;
            for (int i = r.Start; i < r.End; i++)
                for (int j = c.Start; j < c.End; j++)
                {
                    T v = plane[i * w + j];
                    if (v > plane[best] || T.IsNaN(v)) best = i * w + j;
                }
            return best;
        }

        private static T Divisor(PoolGeometry g, (int Start, int End, int Extent) r, (int Start, int End, int Extent) c) =>
            T.CreateTruncating(g.CountIncludePad ? r.Extent * c.Extent : (r.End - r.Start) * (c.End - c.Start));
    }
}
