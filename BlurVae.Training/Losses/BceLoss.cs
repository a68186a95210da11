
namespace BlurVae.Training.Losses;

/// <summary>
/// Binary cross-entropy (the continuous Bernoulli-style "CE" baseline) on pixels mapped from [−1, 1] to [0, 1]:
/// targets t = (x + 1)/2, predictions p = clamp((x̂ + 1)/2, 1e-7, 1 − 1e-7), loss −Σ [t·log p + (1 − t)·log(1 − p)].
/// The clamp keeps the logarithms finite for a tanh output that saturates at ±1; where it is active the
/// gradient is zero (as torch.clamp's). Summed over pixels and channels, averaged over the batch.
/// </summary>
public static class BceLoss
{
    /// <summary>The clamp bound on predicted probabilities.</summary>
    public const double Epsilon = 1e-7;

    /// <summary>−Σ [t·log p + (1 − t)·log(1 − p)] over all axes but the batch, mean over the batch (axis 0).</summary>
    public static Tensor Compute(Tensor x, Tensor xHat)
    {
        LossArguments.CheckBatched("BceLoss", x, xHat);
        var t = (x + 1.0) * 0.5;
        var p = Clamp((xHat + 1.0) * 0.5, Epsilon, 1.0 - Epsilon);
        var logLikelihood = t * p.Log() + (1.0 - t) * (1.0 - p).Log();
        return logLikelihood.Sum() * (-1.0 / x.Shape[0]);
    }

    // clamp(q, lo, hi) = lo + relu(q − lo) − relu(q − hi): built from recorded ops, gradient 1 strictly inside, 0 outside.
    private static Tensor Clamp(Tensor q, double lo, double hi) => (q - lo).Relu() - (q - hi).Relu() + lo;
}
