
namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // One float32 rounding of the result (and of alpha): a few units in the last place. The transcendental ops (tanhf,
    // expf, logf, powf, and a GPU's fast variants of them) are allowed a few more; atol covers results near zero.
    private static readonly Tolerance ExactishTol = new(1e-7, 1e-6), TranscendentalTol = new(1e-7, 4e-6);
    // y = a·x + b·y: two products and a sum, cancellation bounded by |a·x| + |b·y| ≤ ~6.
    private static readonly Tolerance AxpbyTol = new(1e-6, 1e-6);

    private static (double Lo, double Hi, double Alpha) UnaryDomain(UnaryOp op) => op switch
    {
        UnaryOp.Scale => (-2, 2, 0.7),
        UnaryOp.AddScalar => (-2, 2, 0.3),
        UnaryOp.LeakyRelu => (-2, 2, 0.2),
        // Both clamps of relu6 are crossed.
        UnaryOp.Relu6 => (-2, 8, 0),
        // log and a fractional power need positive inputs.
        UnaryOp.Log => (0.1, 2, 0),
        UnaryOp.Pow => (0.1, 2, 2.5),
        _ => (-2, 2, 0),
    };

    private static Tolerance UnaryTol(UnaryOp op) =>
        op is UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Exp or UnaryOp.Log or UnaryOp.Pow ? TranscendentalTol : ExactishTol;

    private static void Unary(ParityHarness h)
    {
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var (lo, hi, alpha) = UnaryDomain(op);
            var tol = UnaryTol(op);
            string name = op.ToString().ToLowerInvariant();
            foreach (int n in Lengths(h))
            {
                string sizes = $"n={n} alpha={alpha}";
                var x = h.Uniform(n, lo, hi);
                h.Check($"unary.{name}.forward", sizes, [Out("y", Garbage(h, n), tol), In("x", x)],
                    (b, o) => b.UnaryForward(op, o["y"], o["x"], alpha));
                // The backward reads y for the ops whose derivative is cheaper from the output: both backends get the same y.
                var y = h.OnReference([In("x", x), In("y", new float[n])], (b, o) => b.UnaryForward(op, o["y"], o["x"], alpha), "y")[0];
                h.Check($"unary.{name}.backward", sizes, [Out("dx", Garbage(h, n), tol), In("dy", h.Uniform(n)), In("x", x), In("y", y)],
                    (b, o) => b.UnaryBackward(op, o["dx"], o["dy"], o["x"], o["y"], alpha));
            }
        }
    }

    private static void Binary(ParityHarness h)
    {
        // (y, a, b): equal shapes, both operands broadcast along different axes, a scalar-like operand on either side.
        (int[] Y, int[] A, int[] B)[] cases = h.Options.Quick
            ? [([3, 5, 7], [3, 5, 7], [3, 5, 7]), ([2, 3, 4, 5], [2, 1, 4, 1], [1, 3, 1, 5])]
            : [([1], [1], [1]), ([3, 5, 7], [3, 5, 7], [3, 5, 7]), ([3, 5, 7], [3, 1, 7], [1, 5, 1]), ([2, 3, 4, 5], [2, 1, 4, 1], [1, 3, 1, 5]),
               ([3, 5, 7], [1, 1, 1], [3, 5, 7]), ([4, 33], [4, 33], [1, 33]), ([31, 9], [31, 1], [31, 9])];
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            foreach (var (ys, asShape, bs) in cases)
            {
                int ny = ys.Aggregate(1, (p, d) => p * d), na = asShape.Aggregate(1, (p, d) => p * d), nb = bs.Aggregate(1, (p, d) => p * d);
                // Divisors stay away from zero; so do the other operands, harmlessly.
                var bValues = op == BinaryOp.Div ? h.AwayFromZero(nb, 0.5, 2) : h.Uniform(nb, -2, 2);
                h.Check($"binary.{op.ToString().ToLowerInvariant()}", $"{Shape(ys)} = {Shape(asShape)} op {Shape(bs)}",
                    [Out("y", Garbage(h, ny), ExactishTol), In("a", h.Uniform(na, -2, 2)), In("b", bValues)],
                    (b, o) => b.BinaryForward(op, o["y"], ys, o["a"], asShape, o["b"], bs));
            }
        }
    }

    private static void Axpby(ParityHarness h)
    {
        foreach (var (alpha, beta) in new[] { (0.75, -1.25), (1.0, 0.0) })
        {
            foreach (int n in Lengths(h))
            {
                h.Check("axpby", $"n={n} alpha={alpha} beta={beta}", [Out("y", h.Uniform(n, -2, 2), AxpbyTol), In("x", h.Uniform(n, -2, 2))],
                    (b, o) => b.Axpby(o["y"], alpha, o["x"], beta));
            }
            // A group: the trainer's four one-element sums, pairs of different lengths, and more pairs than one launch takes.
            int[][] groups = h.Options.Quick ? [[1, 1, 1, 1], [31, 1, 1000]] : [[1, 1, 1, 1], [31, 1, 1000], [.. Enumerable.Range(1, 19).Select(k => 3 * k)]];
            foreach (var lengths in groups)
            {
                var ys = lengths.Select((n, k) => Out($"y{k}", h.Uniform(n, -2, 2), AxpbyTol));
                var xs = lengths.Select((n, k) => In($"x{k}", h.Uniform(n, -2, 2)));
                h.Check("axpby_group", $"lengths=[{string.Join(",", lengths)}] alpha={alpha} beta={beta}", [.. ys, .. xs],
                    (b, o) => b.AxpbyGroup([.. lengths.Select((_, k) => o[$"y{k}"])], alpha, [.. lengths.Select((_, k) => o[$"x{k}"])], beta));
            }
        }
    }

    // y = Σ_k w_k·x_k: up to 8 products and their sum, each ≤ 2·2 in size.
    private static readonly Tolerance WeightedSumTol = new(4e-6, 1e-6);

    private static void WeightedSum(ParityHarness h)
    {
        // One term, the ELBO's two (reconstruction + β·KL, one element), and the most one launch takes.
        double[][] weightSets = [[0.5], [1.0, 0.25], [1.0, -0.5, 2.0, 0.125, -1.5, 0.75, 3.0, -0.25]];
        foreach (var weights in weightSets)
        {
            foreach (int n in Lengths(h))
            {
                string sizes = $"n={n} terms={weights.Length}";
                var xs = weights.Select((_, k) => In($"x{k}", h.Uniform(n, -2, 2)));
                h.Check("weighted_sum.forward", sizes, [Out("y", Garbage(h, n), WeightedSumTol), .. xs],
                    (b, o) => b.WeightedSumForward(o["y"], [.. weights.Select((_, k) => o[$"x{k}"])], weights));
                var dxs = weights.Select((_, k) => Out($"dx{k}", Garbage(h, n), ExactishTol));
                h.Check("weighted_sum.backward", sizes, [.. dxs, In("dy", h.Uniform(n, -2, 2))],
                    (b, o) => b.WeightedSumBackward([.. weights.Select((_, k) => o[$"dx{k}"])], weights, o["dy"]));
            }
        }
    }
}
