
namespace BlurVae.Training.Losses;

/// <summary>
/// ‖x − x̂‖₁ (a Laplace likelihood with unit scale, up to its constant). Summed over pixels and channels,
/// averaged over the batch. The gradient at x̂ = x is 0.
/// </summary>
public static class L1Loss
{
    /// <summary>Σ |x − x̂| over all axes but the batch, mean over the batch (axis 0).</summary>
    public static Tensor Compute(Tensor x, Tensor xHat)
    {
        LossArguments.CheckBatched("L1Loss", x, xHat);
        return (x - xHat).Abs().Sum() * (1.0 / x.Shape[0]);
    }
}
