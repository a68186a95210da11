
namespace BlurVae.Training.Losses;

/// <summary>
/// A reconstruction term that needs only the target and the reconstruction (every baseline; the learned Watson-DFT
/// loss implements it too). Convention: summed over pixels and channels, averaged over the batch, differentiable
/// in xHat. The Wiener loss needs a kernel per image and has its own API (<see cref="WienerBlurLoss"/>).
/// </summary>
public interface IReconstructionLoss
{
    /// <summary>A short name for logs and run names ("l2", "bce", …).</summary>
    string Name { get; }

    /// <summary>The loss of reconstructions xHat of targets x, both [N, C, H, W] in [−1, 1]; a scalar tensor.</summary>
    Tensor Compute(Tensor x, Tensor xHat);
}
