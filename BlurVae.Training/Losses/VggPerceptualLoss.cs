using BlurVae.Training.Perceptual;

namespace BlurVae.Training.Losses;

/// <summary>
/// The paper's VGG perceptual loss baseline. The paper uses "VGG-Loss (Zhang et al. 2018) … the implementation
/// provided by Czolbe et al. (2020), where the losses were learned with the Two-Alternative Forced Choice dataset":
/// Czolbe et al.'s Deeploss-VGG is LPIPS v0.1's network (PNetLin) on VGG16, so this is <see cref="Lpips"/> with
/// VGG16 features as a reconstruction term. Layers: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (LPIPS's five taps);
/// weighting: per layer the channel-unit-normalised squared difference, weighted per channel by the learned 1×1
/// heads of the weights file (Czolbe's 2AFC-trained heads from `export-weights.py deeploss-vgg`, or the lpips
/// package's from `lpips-vgg`), averaged over pixels and summed over the layers, so no hand-set layer weights enter.
/// Reduction: the per-image distance averaged over the batch (Czolbe's reduction='sum' gives every image the same
/// gradient up to the batch size, which Adam's scale invariance makes equivalent). The distance is O(1) per image,
/// where L2 sums O(pixels) terms, so β has to be tuned for this loss (the paper tunes β per method). The target's
/// features carry no gradient; x̂'s do, through our engine on any backend.
/// </summary>
public sealed class VggPerceptualLoss : IReconstructionLoss
{
    public VggPerceptualLoss(Lpips lpips)
    {
        if (lpips.Network is not Vgg16Features)
            throw new ArgumentException($"The VGG loss needs VGG16 features; these weights hold {lpips.Network.Name}'s.", nameof(lpips));
        Lpips = lpips;
    }

    public Lpips Lpips { get; }

    public string Name => "vgg";

    /// <summary>The mean over the batch of LPIPS-VGG(x, x̂); differentiable in x̂.</summary>
    public Tensor Compute(Tensor x, Tensor xHat)
    {
        LossArguments.CheckImages("VggPerceptualLoss", x, xHat);
        List<Tensor> target;
        using (GradMode.NoGrad()) target = Lpips.Features(x);
        return Lpips.Distance(target, Lpips.Features(xHat)).Mean();
    }
}
