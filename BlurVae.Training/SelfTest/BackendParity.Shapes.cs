namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // A sum of `count` float32 terms in [-1, 1] (any summation order); relative to the result the same bound as one
    // rounding where the sum is large.
    private static Tolerance SumTol(int count) => Tolerance.OfSum(count, rtol: 1e-6);

    // Broadcasts and slice copies move values: exact.
    private static readonly Tolerance MoveTol = new(0, 0);

    // One float32 addition per element.
    private static readonly Tolerance AddTol = new(1e-7, 1e-6);

    private static (int[] X, int[] Y)[] ReduceCases(ParityHarness h) => h.Options.Quick
        ? [([3, 5, 7, 9], [1, 5, 1, 9]), ([37, 129], [37, 1])]
        : [([1], [1]), ([3, 5, 7, 9], [1, 5, 1, 9]), ([3, 5, 7, 9], [3, 1, 7, 1]), ([3, 5, 7, 9], [1, 1, 1, 1]), ([37, 129], [37, 1]), ([4097, 3], [1, 3])];

    private static void SumTo(ParityHarness h)
    {
        foreach (var (xs, ys) in ReduceCases(h))
        {
            int nx = xs.Aggregate(1, (p, d) => p * d), ny = ys.Aggregate(1, (p, d) => p * d);
            h.Check("sum_to", $"{Shape(xs)} → {Shape(ys)}", [Out("y", Garbage(h, ny), SumTol(nx / ny)), In("x", h.Uniform(nx))],
                (b, o) => b.SumTo(o["y"], ys, o["x"], xs));
        }
    }

    private static void BroadcastTo(ParityHarness h)
    {
        foreach (var (ys, xs) in ReduceCases(h))
        {
            int nx = xs.Aggregate(1, (p, d) => p * d), ny = ys.Aggregate(1, (p, d) => p * d);
            h.Check("broadcast_to", $"{Shape(xs)} → {Shape(ys)}", [Out("y", Garbage(h, ny), MoveTol), In("x", h.Uniform(nx))],
                (b, o) => b.BroadcastTo(o["y"], ys, o["x"], xs));
        }
    }

    private static void CopyAxisSlice(ParityHarness h)
    {
        // (outer, dstAxis, dstStart, srcAxis, srcStart, length, inner): a middle slab, a whole axis, one row of a wide inner.
        (int Outer, int DstAxis, int DstStart, int SrcAxis, int SrcStart, int Length, int Inner)[] cases = h.Options.Quick
            ? [(3, 7, 2, 5, 1, 4, 9)]
            : [(3, 7, 2, 5, 1, 4, 9), (1, 5, 0, 5, 0, 5, 1), (2, 3, 2, 8, 7, 1, 1031)];
        foreach (var (outer, dstAxis, dstStart, srcAxis, srcStart, length, inner) in cases)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                // The whole dst is compared: elements outside the slab must be left as they were.
                h.Check(accumulate ? "copy_axis_slice (accumulate)" : "copy_axis_slice",
                    $"outer={outer} dst[{dstStart}..+{length} of {dstAxis}] ← src[{srcStart}.. of {srcAxis}] inner={inner}",
                    [Out("dst", h.Uniform(outer * dstAxis * inner), accumulate ? AddTol : MoveTol), In("src", h.Uniform(outer * srcAxis * inner))],
                    (b, o) => b.CopyAxisSlice(o["dst"], dstAxis, dstStart, o["src"], srcAxis, srcStart, outer, length, inner, accumulate));
            }
            // Split into halves along the same axis (the source's, rounded down to even), and its gradient with both
            // halves' gradients, and with none for the second half (zeros there).
            int half = srcAxis / 2;
            if (half > 0)
            {
                int n = outer * half * inner;
                string split = $"outer={outer} 2x{half} inner={inner}";
                h.Check("split.forward", split, [Out("a", Garbage(h, n), MoveTol), Out("b", Garbage(h, n), MoveTol), In("x", h.Uniform(2 * n))],
                    (b, o) => b.SplitForward(o["a"], o["b"], o["x"], outer, half, inner));
                h.Check("split.backward", split, [Out("dx", Garbage(h, 2 * n), MoveTol), In("da", h.Uniform(n)), In("db", h.Uniform(n))],
                    (b, o) => b.SplitBackward(o["dx"], o["da"], o["db"], outer, half, inner));
                h.Check("split.backward (no second gradient)", split, [Out("dx", Garbage(h, 2 * n), MoveTol), In("da", h.Uniform(n))],
                    (b, o) => b.SplitBackward(o["dx"], o["da"], null, outer, half, inner));
            }
            // The gradient of narrowing src's axis to the slab: dx is written whole (garbage before), zeros outside the slab.
            h.Check("narrow.backward", $"outer={outer} dx[{srcStart}..+{length} of {srcAxis}] ← dy inner={inner}",
                [Out("dx", Garbage(h, outer * srcAxis * inner), MoveTol), In("dy", h.Uniform(outer * length * inner))],
                (b, o) => b.NarrowBackward(o["dx"], srcAxis, srcStart, o["dy"], outer, length, inner));
        }
    }
}
