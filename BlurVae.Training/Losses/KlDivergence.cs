
namespace BlurVae.Training.Losses;

/// <summary>
/// D_KL(N(μ, σ²) ‖ N(0, I)) = −½·Σ (1 + log σ² − μ² − σ²), summed over the latent dimensions and averaged over
/// the batch, the same reduction as the reconstruction losses.
/// </summary>
public static class KlDivergence
{
    /// <summary>The KL term per sample, mean over the batch (axis 0).</summary>
    /// <param name="mu">Posterior means [N, Z] (any rank with the batch first).</param>
    /// <param name="logVar">Posterior log-variances log σ², same shape and dtype.</param>
    public static Tensor Compute(Tensor mu, Tensor logVar)
    {
        ArgumentNullException.ThrowIfNull(mu);
        ArgumentNullException.ThrowIfNull(logVar);
        // Per sample and the batch mean in one op (KlFunction).
        return KlFunction.Forward(mu, logVar, 1.0 / mu.Shape[0]);
    }
}
