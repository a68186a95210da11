namespace BlurVae.Kernels.Cpu;

// The VAE's latent (kernels/vae.cuh): the reparameterisation alone (evaluation's sampling) and fused with the KL term
// per sample on the encoder's packed statistics (the training step), forward and backward.
// Latent tensors are small ([batch, latent]), so plain loops; the formulas are the kernels'.
public sealed partial class CpuBackend
{
    public void ReparameterizeForward(BackendBuffer z, BackendBuffer mu, BackendBuffer logVar, BackendBuffer eps)
    {
        ShapeRules.Length(mu, z.Length, nameof(mu));
        ShapeRules.Length(logVar, z.Length, nameof(logVar));
        ShapeRules.Length(eps, z.Length, nameof(eps));
        if (IsF32(z)) Vae<float>.ReparameterizeForward(Arr<float>(z), Arr<float>(mu), Arr<float>(logVar), Arr<float>(eps));
        else Vae<double>.ReparameterizeForward(Arr<double>(z), Arr<double>(mu), Arr<double>(logVar), Arr<double>(eps));
    }

    public void ReparameterizeBackward(BackendBuffer dMu, BackendBuffer dLogVar, BackendBuffer dz, BackendBuffer logVar, BackendBuffer eps)
    {
        ShapeRules.Length(dMu, dz.Length, nameof(dMu));
        ShapeRules.Length(dLogVar, dz.Length, nameof(dLogVar));
        ShapeRules.Length(logVar, dz.Length, nameof(logVar));
        ShapeRules.Length(eps, dz.Length, nameof(eps));
        if (IsF32(dz)) Vae<float>.ReparameterizeBackward(Arr<float>(dMu), Arr<float>(dLogVar), Arr<float>(dz), Arr<float>(logVar), Arr<float>(eps));
        else Vae<double>.ReparameterizeBackward(Arr<double>(dMu), Arr<double>(dLogVar), Arr<double>(dz), Arr<double>(logVar), Arr<double>(eps));
    }

    public void LatentForward(BackendBuffer z, BackendBuffer kl, BackendBuffer perSample, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        CheckBatchLoss(kl, perSample, n);
        CheckLatent(stats, eps, n, latent);
        ShapeRules.Length(z, (long)n * latent, nameof(z));
        if (IsF32(stats)) Vae<float>.LatentForward(Arr<float>(z), Arr<float>(perSample), Arr<float>(stats), Arr<float>(eps), n, latent);
        else Vae<double>.LatentForward(Arr<double>(z), Arr<double>(perSample), Arr<double>(stats), Arr<double>(eps), n, latent);
        BatchLoss(kl, perSample, n, scale);
    }

    public void LatentBackward(BackendBuffer dStats, BackendBuffer? dz, BackendBuffer? dKl, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        CheckLatent(stats, eps, n, latent);
        ShapeRules.Length(dStats, 2L * n * latent, nameof(dStats));
        if (dz is not null) ShapeRules.Length(dz, (long)n * latent, nameof(dz));
        if (dKl is not null) ShapeRules.Length(dKl, 1, nameof(dKl));
        if (IsF32(stats))
            Vae<float>.LatentBackward(Arr<float>(dStats), dz is null ? null : Arr<float>(dz), dKl is null ? null : ScaledGrad<float>(dKl, scale), Arr<float>(stats), Arr<float>(eps), n, latent);
        else
            Vae<double>.LatentBackward(Arr<double>(dStats), dz is null ? null : Arr<double>(dz), dKl is null ? null : ScaledGrad<double>(dKl, scale), Arr<double>(stats), Arr<double>(eps), n, latent);
    }

    private static void CheckLatent(BackendBuffer stats, BackendBuffer eps, int n, int latent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(latent, 1);
        ShapeRules.Length(stats, 2L * n * latent, nameof(stats));
        ShapeRules.Length(eps, (long)n * latent, nameof(eps));
    }

    private static class Vae<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T Half = T.CreateTruncating(0.5);

        // z = μ + exp(½ log σ²)·ε
        public static void ReparameterizeForward(T[] z, T[] mu, T[] logVar, T[] eps)
        {
            for (int i = 0; i < z.Length; i++) z[i] = mu[i] + T.Exp(Half * logVar[i]) * eps[i];
        }

        // dμ = dz, d log σ² = dz·ε·½exp(½ log σ²)
        public static void ReparameterizeBackward(T[] dMu, T[] dLogVar, T[] dz, T[] logVar, T[] eps)
        {
            for (int i = 0; i < dz.Length; i++)
            {
                dMu[i] = dz[i];
                dLogVar[i] = dz[i] * eps[i] * Half * T.Exp(Half * logVar[i]);
            }
        }

        // The latent on stats [n, 2·latent] (μ then log σ² per row): z = μ + exp(½ log σ²)·ε and the KL per sample,
        // kl[i] = −½ Σ_j (1 + log σ² − μ² − σ²).
        public static void LatentForward(T[] z, T[] kl, T[] stats, T[] eps, int n, int latent)
        {
            for (int i = 0; i < n; i++)
            {
                T s = T.Zero;
                for (int j = 0; j < latent; j++)
                {
                    T mu = stats[2 * i * latent + j], logVar = stats[(2 * i + 1) * latent + j];
                    z[i * latent + j] = mu + T.Exp(Half * logVar) * eps[i * latent + j];
                    s += T.One + logVar - mu * mu - T.Exp(logVar);
                }
                kl[i] = -Half * s;
            }
        }

        // dμ = dz + g·μ, d log σ² = dz·ε·½exp(½ log σ²) + g·½(σ² − 1), an absent dz or g dropping its term.
        public static void LatentBackward(T[] dStats, T[]? dz, T? g, T[] stats, T[] eps, int n, int latent)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < latent; j++)
                {
                    int at = 2 * i * latent + j, k = i * latent + j;
                    T mu = stats[at], logVar = stats[at + latent], dMu = T.Zero, dLogVar = T.Zero;
                    if (dz is not null)
                    {
                        dMu = dz[k];
                        dLogVar = dz[k] * eps[k] * Half * T.Exp(Half * logVar);
                    }
                    if (g is T gk)
                    {
                        dMu += gk * mu;
                        dLogVar += gk * Half * (T.Exp(logVar) - T.One);
                    }
                    dStats[at] = dMu;
                    dStats[at + latent] = dLogVar;
                }
        }

    }
}
