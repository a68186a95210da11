using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// Reductions to a broadcast-compatible shape, broadcasts back up, and axis slices (concat/chunk).
public sealed partial class CpuBackend
{
    public void SumTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(x, Shapes.Product(xShape), nameof(x));
        if (IsF32(x)) Reduce<float>.SumTo(Arr<float>(y), yShape, Arr<float>(x), xShape);
        else Reduce<double>.SumTo(Arr<double>(y), yShape, Arr<double>(x), xShape);
    }

    public void BroadcastTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(x, Shapes.Product(xShape), nameof(x));
        if (IsF32(x)) Reduce<float>.BroadcastTo(Arr<float>(y), yShape, Arr<float>(x), xShape);
        else Reduce<double>.BroadcastTo(Arr<double>(y), yShape, Arr<double>(x), xShape);
    }

    public void CopyAxisSlice(BackendBuffer dst, int dstAxis, int dstStart, BackendBuffer src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate)
    {
        if (dstStart < 0 || dstStart + length > dstAxis) throw new ArgumentOutOfRangeException(nameof(dstStart), "slice outside the destination axis");
        if (srcStart < 0 || srcStart + length > srcAxis) throw new ArgumentOutOfRangeException(nameof(srcStart), "slice outside the source axis");
        ShapeRules.Length(dst, (long)outer * dstAxis * inner, nameof(dst));
        ShapeRules.Length(src, (long)outer * srcAxis * inner, nameof(src));
        if (IsF32(dst)) Reduce<float>.CopyAxisSlice(Arr<float>(dst), dstAxis, dstStart, Arr<float>(src), srcAxis, srcStart, outer, length, inner, accumulate);
        else Reduce<double>.CopyAxisSlice(Arr<double>(dst), dstAxis, dstStart, Arr<double>(src), srcAxis, srcStart, outer, length, inner, accumulate);
    }

    public void NarrowBackward(BackendBuffer dx, int axis, int start, BackendBuffer dy, int outer, int length, int inner)
    {
        if (start < 0 || length < 0 || start + length > axis) throw new ArgumentOutOfRangeException(nameof(start), "slice outside the axis");
        ShapeRules.Length(dx, (long)outer * axis * inner, nameof(dx));
        ShapeRules.Length(dy, (long)outer * length * inner, nameof(dy));
        if (IsF32(dx)) Reduce<float>.NarrowBackward(Arr<float>(dx), axis, start, Arr<float>(dy), outer, length, inner);
        else Reduce<double>.NarrowBackward(Arr<double>(dx), axis, start, Arr<double>(dy), outer, length, inner);
    }

    public void SplitForward(BackendBuffer a, BackendBuffer b, BackendBuffer x, int outer, int half, int inner)
    {
        long n = CheckSplit(outer, half, inner, (a, nameof(a)), (b, nameof(b)));
        ShapeRules.Length(x, 2 * n, nameof(x));
        if (IsF32(x)) Reduce<float>.SplitForward(Arr<float>(a), Arr<float>(b), Arr<float>(x), outer, half * inner);
        else Reduce<double>.SplitForward(Arr<double>(a), Arr<double>(b), Arr<double>(x), outer, half * inner);
    }

    public void SplitBackward(BackendBuffer dx, BackendBuffer? da, BackendBuffer? db, int outer, int half, int inner)
    {
        long n = CheckSplit(outer, half, inner);
        ShapeRules.Length(dx, 2 * n, nameof(dx));
        if (da is not null) ShapeRules.Length(da, n, nameof(da));
        if (db is not null) ShapeRules.Length(db, n, nameof(db));
        if (IsF32(dx)) Reduce<float>.SplitBackward(Arr<float>(dx), da is null ? null : Arr<float>(da), db is null ? null : Arr<float>(db), outer, half * inner);
        else Reduce<double>.SplitBackward(Arr<double>(dx), da is null ? null : Arr<double>(da), db is null ? null : Arr<double>(db), outer, half * inner);
    }

    private static long CheckSplit(int outer, int half, int inner, params ReadOnlySpan<(BackendBuffer Buffer, string Name)> halves)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outer);
        ArgumentOutOfRangeException.ThrowIfLessThan(half, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inner, 1);
        long n = (long)outer * half * inner;
        foreach (var (buffer, name) in halves) ShapeRules.Length(buffer, n, name);
        return n;
    }

    private static class Reduce<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static void SumTo(T[] y, int[] yShape, T[] x, int[] xShape)
        {
            if (y.Length == x.Length)
            {
                x.AsSpan().CopyTo(y);
                return;
            }
            if (y.Length == 1)
            {
                y[0] = SumAll(x);
                return;
            }
            // Coalesce with x as the full shape; "broadcast" axes of y are the reduced ones.
            var (shape, reduced, _) = Shapes.Coalesce(xShape, yShape, yShape);
            long[] sy = Shapes.Strides(shape, reduced);
            int inner = shape[^1];
            bool innerReduced = reduced[^1];
            int rows = x.Length / inner;
            Array.Clear(y);
            if (innerReduced && !reduced.Take(reduced.Length - 1).Contains(true))
            {
                // Only the innermost axis is reduced (row sums): rows are independent.
                Parallelism.ForRange(rows, Math.Max(1, ElementwiseGrain / inner), (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++) y[r] = TensorPrimitives.Sum<T>(x.AsSpan(r * inner, inner));
                });
                return;
            }
            if (shape.Length == 3 && reduced[0] && !reduced[1] && innerReduced)
            {
                // [outer, channels, inner] → [channels] (a convolution's bias gradient): channel ranges in parallel,
                // each swept image by image as below, so each channel's sum runs in the same order (the same value).
                int outer = shape[0], channels = shape[1];
                Parallelism.ForRange(channels, Math.Max(1, ElementwiseGrain / Math.Max(1, outer * inner)), (c0, c1) =>
                {
                    for (int i = 0; i < outer; i++)
                        for (int ch = c0; ch < c1; ch++)
                            y[ch] += TensorPrimitives.Sum<T>(x.AsSpan((i * channels + ch) * inner, inner));
                });
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                int off = (int)Shapes.RowOffset(r, shape, sy);
                var row = x.AsSpan(r * inner, inner);
                if (innerReduced) y[off] += TensorPrimitives.Sum<T>(row);
                else
                {
                    var dst = y.AsSpan(off, inner);
                    TensorPrimitives.Add(dst, row, dst);
                }
            }
        }

        private const int SumAllChunks = 4;

        private static T SumAll(T[] x)
        {
            if (x.Length < 2 * ElementwiseGrain) return TensorPrimitives.Sum<T>(x);
            // A fixed number of partial sums, not one per thread: the sum's order (and rounding) may not depend on the thread count.
            int chunks = SumAllChunks;
            var partial = new T[chunks];
            Parallelism.ForEach(chunks, 1L << 30, i =>
            {
                int s = (int)((long)x.Length * i / chunks), e = (int)((long)x.Length * (i + 1) / chunks);
                partial[i] = TensorPrimitives.Sum<T>(x.AsSpan(s, e - s));
            });
            T total = T.Zero;
            foreach (var p in partial) total += p;
            return total;
        }

        public static void BroadcastTo(T[] y, int[] yShape, T[] x, int[] xShape)
        {
            if (y.Length == x.Length)
            {
                x.AsSpan().CopyTo(y);
                return;
            }
            if (x.Length == 1)
            {
                Array.Fill(y, x[0]);
                return;
            }
            var (shape, broadcast, _) = Shapes.Coalesce(yShape, xShape, xShape);
            long[] sx = Shapes.Strides(shape, broadcast);
            int inner = shape[^1];
            bool innerBroadcast = broadcast[^1];
            int rows = y.Length / inner;
            Parallelism.ForRange(rows, Math.Max(1, ElementwiseGrain / inner), (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    int off = (int)Shapes.RowOffset(r, shape, sx);
                    var dst = y.AsSpan(r * inner, inner);
                    if (innerBroadcast) dst.Fill(x[off]);
                    else x.AsSpan(off, inner).CopyTo(dst);
                }
            });
        }

        public static void CopyAxisSlice(T[] dst, int dstAxis, int dstStart, T[] src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate)
        {
            int block = length * inner;
            for (int o = 0; o < outer; o++)
            {
                var s = src.AsSpan((o * srcAxis + srcStart) * inner, block);
                var d = dst.AsSpan((o * dstAxis + dstStart) * inner, block);
                if (accumulate) TensorPrimitives.Add(d, s, d);
                else s.CopyTo(d);
            }
        }

        // Per plane of x: its first half·inner elements to a, the next to b.
        public static void SplitForward(T[] a, T[] b, T[] x, int outer, int halfInner)
        {
            for (int o = 0; o < outer; o++)
            {
                x.AsSpan(2 * o * halfInner, halfInner).CopyTo(a.AsSpan(o * halfInner));
                x.AsSpan((2 * o + 1) * halfInner, halfInner).CopyTo(b.AsSpan(o * halfInner));
            }
        }

        public static void SplitBackward(T[] dx, T[]? da, T[]? db, int outer, int halfInner)
        {
            for (int o = 0; o < outer; o++)
            {
                var first = dx.AsSpan(2 * o * halfInner, halfInner);
                var second = dx.AsSpan((2 * o + 1) * halfInner, halfInner);
                if (da is null) first.Clear(); else da.AsSpan(o * halfInner, halfInner).CopyTo(first);
                if (db is null) second.Clear(); else db.AsSpan(o * halfInner, halfInner).CopyTo(second);
            }
        }

        // Per plane of dx: zeros before the slab, the slab, zeros after.
        public static void NarrowBackward(T[] dx, int axis, int start, T[] dy, int outer, int length, int inner)
        {
            for (int o = 0; o < outer; o++)
            {
                var plane = dx.AsSpan(o * axis * inner, axis * inner);
                plane[..(start * inner)].Clear();
                dy.AsSpan(o * length * inner, length * inner).CopyTo(plane[(start * inner)..]);
                plane[((start + length) * inner)..].Clear();
            }
        }
    }
}
