namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // A dot product of k float32 terms in [-1, 1] plus β·c (any order, FMA or not): Tolerance.OfSum of k + 1 terms.
    // This is far tighter than TF32 tensor-core math (10-bit mantissa, ~1e-3 relative), which the candidate must not use here.
    private static Tolerance GemmTol(int k) => Tolerance.OfSum(k + 1);

    private readonly record struct GemmCase(bool TransA, bool TransB, int M, int N, int K, int Batch, double Alpha, double Beta, int Pad, int Offset);

    private static void Gemm(ParityHarness h)
    {
        var shapes = new List<GemmCase>();
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                shapes.Add(new(ta, tb, 17, 23, 31, 1, 0.75, 0, 0, 0));
                // Batched with leading dimensions wider than the matrices, offsets, and gaps between the matrices.
                shapes.Add(new(ta, tb, 5, 9, 13, 3, 1, 0.5, 3, 2));
                if (!h.Options.Quick) shapes.Add(new(ta, tb, 1, 1, 1, 1, 1, 1, 0, 0));
            }
        }
        if (!h.Options.Quick)
        {
            shapes.Add(new(false, false, 65, 33, 129, 1, 1, 0, 0, 0));
            shapes.Add(new(true, false, 33, 70, 257, 2, -0.5, 0.25, 1, 7));
        }
        foreach (var g in shapes) GemmCheck(h, g);
    }

    private static void GemmCheck(ParityHarness h, GemmCase g)
    {
        var (ta, tb, m, n, k, batch) = (g.TransA, g.TransB, g.M, g.N, g.K, g.Batch);
        // Row-major storage: A is m×k (k×m when transposed), B k×n (n×k), C m×n; each row padded by Pad elements.
        int aRows = ta ? k : m, lda = (ta ? m : k) + g.Pad;
        int bRows = tb ? n : k, ldb = (tb ? k : n) + g.Pad;
        int ldc = n + g.Pad;
        int gap = g.Pad > 0 ? 5 : 0;
        long strideA = aRows * lda + gap, strideB = bRows * ldb + gap, strideC = m * ldc + gap;
        int aOffset = g.Offset, bOffset = g.Offset == 0 ? 0 : 2 * g.Offset + 1, cOffset = g.Offset / 2;
        int aLength = checked((int)(aOffset + (batch - 1) * strideA + aRows * lda));
        int bLength = checked((int)(bOffset + (batch - 1) * strideB + bRows * ldb));
        int cLength = checked((int)(cOffset + (batch - 1) * strideC + m * ldc));
        // The whole of C is compared: padding, gaps and the offset prefix must come back untouched.
        var tol = GemmTol(k);
        tol = tol with { Atol = tol.Atol * Math.Abs(g.Alpha) + 1e-7 * Math.Abs(g.Beta) * 3 };
        h.Check("gemm", $"{(ta ? "T" : "N")}{(tb ? "T" : "N")} m={m} n={n} k={k} batch={batch} alpha={g.Alpha} beta={g.Beta} pad={g.Pad} off={aOffset}/{bOffset}/{cOffset}",
            [Out("c", h.Uniform(cLength, -3, 3), tol), In("a", h.Uniform(aLength)), In("b", h.Uniform(bLength))],
            (b, o) => b.Gemm(ta, tb, m, n, k, g.Alpha, o["a"], aOffset, lda, strideA, o["b"], bOffset, ldb, strideB,
                g.Beta, o["c"], cOffset, ldc, strideC, batch));
    }
}
