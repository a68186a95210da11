
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The KL divergence of N(μ, σ²) from N(0, I), kl_i = −½ Σ_j (1 + log σ² − μ² − σ²) per sample for μ and log σ²
/// [N, ...] (batch first), and the output kl = scale·Σ_i kl_i (the batch mean for scale = 1/N), one element: one
/// backend op each way (IBackend.Kl*) instead of a chain of elementwise ops and a reduction.
/// </summary>
public sealed class KlFunction : Function
{
    private double _scale;

    /// <returns>kl, one element (shape []).</returns>
    public static Tensor Forward(Tensor mu, Tensor logVar, double scale)
    {
        if (mu.Rank < 2 || mu.Shape[0] < 1 || mu.Length == 0)
            throw new ArgumentException($"Kl: mu must be [N, Z] with N, Z >= 1, got {Tensor.ShapeString(mu.Shape)}.", nameof(mu));
        if (!mu.Shape.AsSpan().SequenceEqual(logVar.Shape) || mu.DType != logVar.DType)
            throw new ArgumentException($"Kl: logVar is {Tensor.ShapeString(logVar.Shape)} {logVar.DType} but mu is {Tensor.ShapeString(mu.Shape)} {mu.DType}.", nameof(logVar));
        int n = mu.Shape[0];
        var kl = BatchLoss.Run(mu, n, null, (k, perSample) => mu.Backend.KlForward(k, perSample, mu.Buffer, logVar.Buffer, n, mu.Length / n, scale));
        return new KlFunction { _scale = scale }.Record(kl, mu, logVar);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor mu = Inputs[0], logVar = Inputs[1];
        int n = mu.Shape[0];
        var dMu = mu.EmptyLike();
        var dLogVar = logVar.EmptyLike();
        g.Backend.KlBackward(dMu.Buffer, dLogVar.Buffer, g.Buffer, mu.Buffer, logVar.Buffer, n, mu.Length / n, _scale);
        return [dMu, dLogVar];
    }
}
