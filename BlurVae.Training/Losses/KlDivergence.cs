namespace BlurVae.Training.Losses;

/// <summary>
/// D_KL(N(μ, σ²) ‖ N(0, I)) = −½·Σ (1 + log σ² − μ² − σ²), summed over the latent dimensions and averaged over
/// the batch, the same reduction as the reconstruction losses. The training step gets it from its latent op
/// (VaeModel.Run, LatentFunction) together with z; this is the same op for a separate μ and log σ².
/// </summary>
public static class KlDivergence
{
    /// <summary>The KL term per sample, mean over the batch (axis 0).</summary>
    /// <param name="mu">Posterior means [N, Z].</param>
    /// <param name="logVar">Posterior log-variances log σ², same shape and dtype.</param>
    public static Tensor Compute(Tensor mu, Tensor logVar)
    {
        ArgumentNullException.ThrowIfNull(mu);
        ArgumentNullException.ThrowIfNull(logVar);
        if (mu.Rank != 2 || mu.Shape[0] < 1 || mu.Shape[1] < 1)
            throw new ArgumentException($"KlDivergence: mu must be [N, Z] with N, Z >= 1, got {Tensor.ShapeString(mu.Shape)}.", nameof(mu));
        if (!mu.Shape.AsSpan().SequenceEqual(logVar.Shape) || mu.DType != logVar.DType)
            throw new ArgumentException($"KlDivergence: logVar is {Tensor.ShapeString(logVar.Shape)} {logVar.DType} but mu is {Tensor.ShapeString(mu.Shape)} {mu.DType}.", nameof(logVar));
        // The latent op on the packed statistics with ε = 0 (its z, then μ, is unused): one KL rule for both paths.
        var stats = Tensor.Concat([mu, logVar], axis: 1);
        return LatentFunction.Forward(stats, Tensor.Zeros(mu.Shape, mu.DType, mu.Backend), 1.0 / mu.Shape[0]).Kl;
    }
}
