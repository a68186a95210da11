
namespace BlurVae.Training.Losses;

/// <summary>
/// ½‖x − x̂‖²: the Gaussian negative log-likelihood with Σ = I, up to its constant. Summed over pixels and
/// channels, averaged over the batch, like every loss here (and the KL term).
/// </summary>
public static class L2Loss
{
    /// <summary>½·Σ (x − x̂)² over all axes but the batch, mean over the batch (axis 0).</summary>
    public static Tensor Compute(Tensor x, Tensor xHat)
    {
        LossArguments.CheckBatched("L2Loss", x, xHat);
        return (x - xHat).Square().Sum() * (0.5 / x.Shape[0]);
    }
}
