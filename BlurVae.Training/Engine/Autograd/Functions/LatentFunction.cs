namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The latent of a training step on the encoder's statistics stats [N, 2L] (μ then log σ² along axis 1): z = μ +
/// exp(½ log σ²)·ε [N, L] and kl = scale·Σ_i kl_i (kl_i = −½ Σ_j (1 + log σ² − μ² − σ²) the KL of sample i; the batch mean for scale = 1/N),
/// one node with two outputs and one backend op each way (IBackend.Latent*) in place of a split, the reparameterisation, a KL op and
/// the adds of their gradients. Backward runs once with both outputs' gradients and writes d(stats) whole. ε is
/// noise drawn by the caller and gets no gradient.
/// </summary>
public sealed class LatentFunction : MultiOutputFunction
{
    private Tensor _eps = null!;
    private double _scale;

    /// <returns>z [N, L] and kl, one element (shape []).</returns>
    public static (Tensor Z, Tensor Kl) Forward(Tensor stats, Tensor eps, double scale)
    {
        if (stats.Rank != 2 || stats.Shape[0] < 1 || stats.Shape[1] < 2 || stats.Shape[1] % 2 != 0)
            throw new ArgumentException($"Latent: stats must be [N, 2L] with N, L >= 1, got {Tensor.ShapeString(stats.Shape)}.", nameof(stats));
        int n = stats.Shape[0], latent = stats.Shape[1] / 2;
        if (eps.Rank != 2 || eps.Shape[0] != n || eps.Shape[1] != latent || eps.DType != stats.DType)
            throw new ArgumentException($"Latent: eps is {Tensor.ShapeString(eps.Shape)} {eps.DType} but must be [{n}, {latent}] {stats.DType} for stats {Tensor.ShapeString(stats.Shape)}.", nameof(eps));
        if (eps.RequiresGrad) throw new ArgumentException("Latent: eps is noise and takes no gradient; pass it detached.", nameof(eps));
        var z = Tensor.Empty([n, latent], stats.DType, stats.Backend);
        var kl = BatchLoss.Run(stats, n, null, (k, perSample) => stats.Backend.LatentForward(z.Buffer, k, perSample, stats.Buffer, eps.Buffer, n, latent, scale));
        var outputs = new LatentFunction { _eps = eps, _scale = scale }.RecordOutputs([z, kl], stats);
        return (outputs[0], outputs[1]);
    }

    public override Tensor?[] Backward(Tensor?[] gradOutputs)
    {
        var stats = Inputs[0];
        int n = stats.Shape[0], latent = stats.Shape[1] / 2;
        var dStats = stats.EmptyLike();
        stats.Backend.LatentBackward(dStats.Buffer, gradOutputs[0]?.Buffer, gradOutputs[1]?.Buffer, stats.Buffer, _eps.Buffer, n, latent, _scale);
        return [dStats];
    }
}
