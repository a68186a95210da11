namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    private const double BnEps = 1e-5, BnMomentum = 0.1, LeakySlope = 0.2;

    // Batch statistics are sums over n·spatial values (tree reductions on a GPU), the variance possibly as
    // E[x²] − E[x]² (inputs have mean ~0.5 and variance ~1.3, so that cancellation costs little); the normalised
    // output inherits their relative error times |x̂| ≤ ~3.
    private static readonly Tolerance BnStatTol = new(1e-6, 5e-6), BnOutTol = new(5e-6, 5e-6);
    // dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)): two reductions and a cancellation.
    private static readonly Tolerance BnDxTol = new(1e-5, 2e-5);
    // dγ = Σ dy·x̂ and dβ = Σ dy over n·spatial terms of magnitude ≤ ~3.
    private static Tolerance BnSumTol(int count) => Tolerance.OfSum(count, magnitude: 4);

    private static void BatchNorm(ParityHarness h)
    {
        // (n, c, spatial): batch 3 and batch 1, channel counts that fill no warp evenly, a wide plane; never n·spatial = 1 (no unbiased variance).
        (int N, int C, int S)[] shapes = h.Options.Quick ? [(3, 5, 7), (1, 4, 9)] : [(3, 5, 7), (1, 4, 9), (2, 17, 64), (3, 2, 1), (1, 3, 1031)];
        bool first = true;
        foreach (var (n, c, s) in shapes)
        {
            // Every combination of the optional affine parameters and running statistics on the first shape, the full layer elsewhere.
            var variants = first && !h.Options.Quick ? new[] { (true, true), (true, false), (false, true), (false, false) } : new[] { (true, true), (false, false) };
            first = false;
            foreach (var (affine, running) in variants)
                BatchNormChecks(h, n, c, s, affine, running);
        }
    }

    // [c, 2]: each channel's mean and Σ (x − mean)² over its n·s values, two-pass in float64, rounded.
    private static float[] TwoPassStatistics(float[] x, int n, int c, int s)
    {
        var stats = new float[2 * c];
        var values = Array.ConvertAll(x, v => (double)v);
        for (int ch = 0; ch < c; ch++)
        {
            var (mean, sq, _) = ChannelStatistics(values, n, c, s, ch);
            (stats[2 * ch], stats[2 * ch + 1]) = ((float)mean, (float)sq);
        }
        return stats;
    }

    /// <summary>Channel ch of x viewed as [n, c, s]: its mean, Σ (x − mean)² (two passes, float64) and largest |x| (the tests' reference too).</summary>
    internal static (double Mean, double Sq, double MaxAbs) ChannelStatistics(double[] x, int n, int c, int s, int ch)
    {
        double sum = 0, sq = 0, max = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < s; k++)
            {
                sum += x[(i * c + ch) * s + k];
                max = Math.Max(max, Math.Abs(x[(i * c + ch) * s + k]));
            }
        double mean = sum / (n * s);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < s; k++) sq += (x[(i * c + ch) * s + k] - mean) * (x[(i * c + ch) * s + k] - mean);
        return (mean, sq, max);
    }

    private static void BatchNormChecks(ParityHarness h, int n, int c, int s, bool affine, bool running)
    {
        int len = n * c * s, count = n * s;
        string sizes = $"n={n} c={c} spatial={s}{(affine ? " affine" : "")}{(running ? " running-stats" : "")}";
        // A non-zero mean, so that a variance computed as E[x²] − E[x]² is exercised.
        var x = h.Uniform(len, -1.5, 2.5);
        var gamma = affine ? h.Uniform(c, 0.5, 1.5) : null;
        var beta = affine ? h.Uniform(c) : null;
        var runMean = h.Uniform(c, -0.5, 0.5);
        var runVar = h.Uniform(c, 0.5, 1.5);
        var affineOps = affine ? new[] { In("gamma", gamma!), In("beta", beta!) } : [];

        Operand[] fwd = [Out("y", Garbage(h, len), BnOutTol), Out("saveMean", Garbage(h, c), BnStatTol), Out("saveInvStd", Garbage(h, c), BnStatTol), In("x", x),
                         .. affineOps, .. running ? new[] { Out("runningMean", runMean, BnStatTol), Out("runningVar", runVar, BnStatTol) } : []];
        void Forward(Kernels.IBackend b, OperandBuffers o) => b.BatchNormForwardTraining(o["y"], o["saveMean"], o["saveInvStd"], o["x"],
            o.Optional("gamma"), o.Optional("beta"), o.Optional("runningMean"), o.Optional("runningVar"), n, c, s, BnEps, BnMomentum);
        h.Check("batchnorm.forward_training", sizes, fwd, Forward);

        // With the batch statistics given (a convolution's, [c, 2]: here the two-pass ones of x, in float64 and rounded):
        // the apply pass alone, the same variance, inverse std and running-statistics rule.
        Operand[] fwdGiven = [.. fwd, In("statistics", TwoPassStatistics(x, n, c, s))];
        h.Check("batchnorm.forward_training+statistics", sizes, fwdGiven, (b, o) => b.BatchNormForwardTraining(o["y"], o["saveMean"], o["saveInvStd"], o["x"],
            o.Optional("gamma"), o.Optional("beta"), o.Optional("runningMean"), o.Optional("runningVar"), n, c, s, BnEps, BnMomentum, o["statistics"]));
        h.Check("batchnorm_leaky_relu.forward_training+statistics", sizes, fwdGiven, (b, o) => b.BatchNormLeakyReluForwardTraining(o["y"], o["saveMean"], o["saveInvStd"],
            o["x"], o.Optional("gamma"), o.Optional("beta"), o.Optional("runningMean"), o.Optional("runningVar"), n, c, s, BnEps, BnMomentum, LeakySlope, o["statistics"]));

        // The backward gets the statistics the forward saved (the reference's, rounded to float32), the same on both backends.
        var saved = h.OnReference(fwd, Forward, "saveMean", "saveInvStd");
        var (saveMean, saveInvStd) = (saved[0], saved[1]);
        var dy = h.Uniform(len);
        h.Check("batchnorm.backward_training", sizes,
            [Out("dx", Garbage(h, len), BnDxTol), .. affine ? new[] { Out("dgamma", Garbage(h, c), BnSumTol(count)), Out("dbeta", Garbage(h, c), BnSumTol(count)) } : [],
             In("dy", dy), In("x", x), In("saveMean", saveMean), In("saveInvStd", saveInvStd), .. affine ? new[] { In("gamma", gamma!) } : []],
            (b, o) => b.BatchNormBackward(o["dx"], o.Optional("dgamma"), o.Optional("dbeta"), o["dy"], o["x"], o["saveMean"], o["saveInvStd"], o.Optional("gamma"), n, c, s));

        // The fused BatchNorm → LeakyReLU of architectures A and B; its backward gets the reference's output and statistics.
        void FusedForward(Kernels.IBackend b, OperandBuffers o) => b.BatchNormLeakyReluForwardTraining(o["y"], o["saveMean"], o["saveInvStd"], o["x"],
            o.Optional("gamma"), o.Optional("beta"), o.Optional("runningMean"), o.Optional("runningVar"), n, c, s, BnEps, BnMomentum, LeakySlope);
        h.Check("batchnorm_leaky_relu.forward_training", sizes, fwd, FusedForward);
        var fusedY = h.OnReference(fwd, FusedForward, "y")[0];
        h.Check("batchnorm_leaky_relu.backward_training", sizes,
            [Out("dx", Garbage(h, len), BnDxTol), .. affine ? new[] { Out("dgamma", Garbage(h, c), BnSumTol(count)), Out("dbeta", Garbage(h, c), BnSumTol(count)) } : [],
             In("dy", dy), In("y", fusedY), In("x", x), In("saveMean", saveMean), In("saveInvStd", saveInvStd), .. affine ? new[] { In("gamma", gamma!) } : []],
            (b, o) => b.BatchNormLeakyReluBackward(o["dx"], o.Optional("dgamma"), o.Optional("dbeta"), o["dy"], o["y"], o["x"], o["saveMean"], o["saveInvStd"],
                o.Optional("gamma"), n, c, s, LeakySlope));

        // Inference mode normalises with the running statistics, which are then constants.
        h.Check("batchnorm.forward_inference", sizes,
            [Out("y", Garbage(h, len), BnOutTol), In("x", x), In("runningMean", runMean), In("runningVar", runVar), .. affineOps],
            (b, o) => b.BatchNormForwardInference(o["y"], o["x"], o["runningMean"], o["runningVar"], o.Optional("gamma"), o.Optional("beta"), n, c, s, BnEps));
        h.Check("batchnorm.backward_inference", sizes,
            [Out("dx", Garbage(h, len), BnOutTol), .. affine ? new[] { Out("dgamma", Garbage(h, c), BnSumTol(count)), Out("dbeta", Garbage(h, c), BnSumTol(count)) } : [],
             In("dy", dy), In("x", x), In("runningMean", runMean), In("runningVar", runVar), .. affine ? new[] { In("gamma", gamma!) } : []],
            (b, o) => b.BatchNormBackwardInference(o["dx"], o.Optional("dgamma"), o.Optional("dbeta"), o["dy"], o["x"], o["runningMean"], o["runningVar"], o.Optional("gamma"), n, c, s, BnEps));
    }
}
