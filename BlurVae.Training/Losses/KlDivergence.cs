using BlurVae.Training.Engine.Tensors;

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
        if (mu.Rank < 2 || mu.Shape[0] < 1)
            throw new ArgumentException($"KlDivergence: mu must be [N, Z] with N >= 1, got {Tensor.ShapeString(mu.Shape)}.", nameof(mu));
        if (!mu.Shape.AsSpan().SequenceEqual(logVar.Shape) || mu.DType != logVar.DType)
            throw new ArgumentException($"KlDivergence: logVar is {Tensor.ShapeString(logVar.Shape)} {logVar.DType} but mu is {Tensor.ShapeString(mu.Shape)} {mu.DType}.", nameof(logVar));
        return (1.0 + logVar - mu.Square() - logVar.Exp()).Sum() * (-0.5 / mu.Shape[0]);
    }
}
