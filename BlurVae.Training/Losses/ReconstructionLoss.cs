
namespace BlurVae.Training.Losses;

/// <summary>The reconstruction terms a VAE can be trained with.</summary>
public enum ReconstructionLossKind
{
    /// <summary>½‖x − x̂‖² (<see cref="L2Loss"/>).</summary>
    L2,
    /// <summary>‖x − x̂‖₁ (<see cref="L1Loss"/>).</summary>
    L1,
    /// <summary>Binary cross-entropy on [0, 1]-scaled pixels (<see cref="BceLoss"/>).</summary>
    Bce,
    /// <summary>L2 plus the focal frequency loss, in the reference's ratio (<see cref="FocalFrequencyLoss"/>).</summary>
    FocalFrequency,
    /// <summary>The learned Watson perceptual loss on the DFT (a separate, trained <see cref="IReconstructionLoss"/>).</summary>
    WatsonDft,
    /// <summary>The paper's blur-minimising term (<see cref="WienerBlurLoss"/>; needs a kernel per image).</summary>
    Wiener,
}

/// <summary>Builds the <see cref="IReconstructionLoss"/> the trainer calls for a <see cref="ReconstructionLossKind"/>.</summary>
public static class ReconstructionLoss
{
    /// <summary>
    /// The loss for a kind. WatsonDft is a learned model with its own weights: construct it and pass it as
    /// <paramref name="watsonDft"/>. Wiener needs each image's kernel, so it is not an <see cref="IReconstructionLoss"/>:
    /// call <see cref="WienerBlurLoss.Compute"/> (plus <see cref="LogDeterminant"/>) directly.
    /// </summary>
    /// <param name="kind">Which loss.</param>
    /// <param name="watsonDft">The trained Watson-DFT loss, required for <see cref="ReconstructionLossKind.WatsonDft"/>.</param>
    /// <param name="focalFrequencyWeight">FFL's weight against mean-MSE (the reference's 100).</param>
    /// <param name="focalFrequencyAlpha">FFL's exponent α.</param>
    public static IReconstructionLoss Create(ReconstructionLossKind kind, IReconstructionLoss? watsonDft = null,
                                             double focalFrequencyWeight = FocalFrequencyLoss.ReferenceWeight,
                                             double focalFrequencyAlpha = FocalFrequencyLoss.DefaultAlpha) => kind switch
    {
        ReconstructionLossKind.L2 => new Named("l2", L2Loss.Compute),
        ReconstructionLossKind.L1 => new Named("l1", L1Loss.Compute),
        ReconstructionLossKind.Bce => new Named("bce", BceLoss.Compute),
        ReconstructionLossKind.FocalFrequency => FocalFrequency(focalFrequencyWeight, focalFrequencyAlpha),
        ReconstructionLossKind.WatsonDft => watsonDft ?? throw new ArgumentException(
            "The WatsonDft loss is a learned model: construct WatsonDftLoss with its weights and pass it as watsonDft.", nameof(watsonDft)),
        ReconstructionLossKind.Wiener => throw new ArgumentException(
            "The Wiener loss needs a blur kernel per image: call WienerBlurLoss.Compute(x, xHat, kernel, c) instead.", nameof(kind)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown reconstruction loss."),
    };

    /// <summary>Parses a loss name as written on a command line: l2 (mse), l1, bce (ce), ffl, watson-dft, wiener.</summary>
    public static ReconstructionLossKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "l2" or "mse" => ReconstructionLossKind.L2,
            "l1" => ReconstructionLossKind.L1,
            "bce" or "ce" => ReconstructionLossKind.Bce,
            "ffl" or "focal-frequency" or "focalfrequency" => ReconstructionLossKind.FocalFrequency,
            "watson-dft" or "watson" or "watsondft" => ReconstructionLossKind.WatsonDft,
            "wiener" or "blur" => ReconstructionLossKind.Wiener,
            _ => throw new ArgumentException($"Unknown reconstruction loss '{name}'; expected one of l2, l1, bce, ffl, watson-dft, wiener.", nameof(name)),
        };
    }

    // The reference trains on mean-MSE + weight·FFL; multiplying by C·H·W/2 turns its mean-MSE into our L2Loss
    // (½‖x − x̂‖² per image) and keeps the ratio, so the KL weight means the same as for the L2 baseline.
    private static IReconstructionLoss FocalFrequency(double weight, double alpha)
    {
        LossArguments.CheckNonNegative("FocalFrequency", weight, nameof(weight));
        LossArguments.CheckNonNegative("FocalFrequency", alpha, nameof(alpha));
        return new Named("ffl", (x, xHat) =>
        {
            var focal = FocalFrequencyLoss.Compute(x, xHat, alpha);     // validates [N, C, H, W] first
            double scale = 0.5 * x.Shape[1] * x.Shape[2] * x.Shape[3];
            return L2Loss.Compute(x, xHat) + focal * (weight * scale);
        });
    }

    private sealed class Named(string name, Func<Tensor, Tensor, Tensor> compute) : IReconstructionLoss
    {
        public string Name { get; } = name;
        public Tensor Compute(Tensor x, Tensor xHat) => compute(x, xHat);
    }
}
