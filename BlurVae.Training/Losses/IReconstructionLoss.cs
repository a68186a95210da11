using BlurVae.Training.Tensors;

namespace BlurVae.Training.Losses;

/// <summary>A reconstruction loss of the VAE: x is the target, xHat the reconstruction, both [N, C, H, W] in [−1, 1].</summary>
public interface IReconstructionLoss
{
    string Name { get; }

    Tensor Compute(Tensor x, Tensor xHat);
}
