namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // expf within 2 ulp on a GPU, and each output a few roundings more: relative to each output, plus an absolute part
    // for outputs that cancel (z = μ + σ·ε near 0 with |μ|, |σ·ε| up to ~8 carries float32 rounding of ~1e-6).
    private static readonly Tolerance VaeTol = new(2e-6, 2e-6);
    // kl[i] sums `latent` terms of magnitude ≤ ~e² (log σ² ≤ 2): float32 rounding of either summation order.
    private static Tolerance KlSumTol(int latent) => Tolerance.OfSum(latent, magnitude: 8);

    private static void Vae(ParityHarness h)
    {
        // (n, latent): one sample, a latent below a warp, one not a multiple of any block, one past a block.
        (int N, int Latent)[] shapes = h.Options.Quick ? [(3, 31), (2, 300)] : [(1, 1), (3, 31), (5, 257), (2, 1500)];
        foreach (var (n, latent) in shapes)
        {
            int len = n * latent;
            string sizes = $"n={n} latent={latent}";
            var mu = h.Uniform(len, -2, 2);
            var logVar = h.Uniform(len, -4, 2);
            var eps = h.Uniform(len, -3, 3);
            h.Check("reparameterize.forward", sizes, [Out("z", Garbage(h, len), VaeTol), In("mu", mu), In("logVar", logVar), In("eps", eps)],
                (b, o) => b.ReparameterizeForward(o["z"], o["mu"], o["logVar"], o["eps"]));
            h.Check("reparameterize.backward", sizes,
                [Out("dMu", Garbage(h, len), VaeTol), Out("dLogVar", Garbage(h, len), VaeTol), In("dz", h.Uniform(len)), In("logVar", logVar), In("eps", eps)],
                (b, o) => b.ReparameterizeBackward(o["dMu"], o["dLogVar"], o["dz"], o["logVar"], o["eps"]));
            double scale = n == 1 ? 0.7 : 1.0 / n; // the batch mean's 1/n, or another scale
            // The fused latent on the packed statistics (row i: μ_i then log σ²_i); backward with both gradients and with each alone.
            var stats = Pack(mu, logVar, n, latent);
            h.Check("latent.forward", $"{sizes} scale={scale:G3}",
                [Out("z", Garbage(h, len), VaeTol), Out("kl", Garbage(h, 1), KlSumTol(latent * n)), Out("perSample", Garbage(h, n), KlSumTol(latent)), In("stats", stats), In("eps", eps)],
                (b, o) => b.LatentForward(o["z"], o["kl"], o["perSample"], o["stats"], o["eps"], n, latent, scale));
            var dz = h.Uniform(len);
            var dKl = h.Uniform(1);
            foreach (var (which, hasDz, hasDKl) in new[] { ("both", true, true), ("dz only", true, false), ("dkl only", false, true) })
                h.Check("latent.backward", $"{sizes} scale={scale:G3} {which}",
                    [Out("dStats", Garbage(h, 2 * len), VaeTol), In("dz", dz), In("dKl", dKl), In("stats", stats), In("eps", eps)],
                    (b, o) => b.LatentBackward(o["dStats"], hasDz ? o["dz"] : null, hasDKl ? o["dKl"] : null, o["stats"], o["eps"], n, latent, scale));
        }
    }

    /// <summary>mu and logVar [n, latent] packed as the encoder's statistics [n, 2·latent] (row i: μ_i then log σ²_i).</summary>
    private static float[] Pack(float[] mu, float[] logVar, int n, int latent)
    {
        var stats = new float[2 * n * latent];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(mu, i * latent, stats, 2 * i * latent, latent);
            Array.Copy(logVar, i * latent, stats, (2 * i + 1) * latent, latent);
        }
        return stats;
    }
}
