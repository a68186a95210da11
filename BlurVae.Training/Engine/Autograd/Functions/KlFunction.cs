
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The KL divergence of N(μ, σ²) from N(0, I) per sample, kl[i] = −½ Σ_j (1 + log σ² − μ² − σ²), for μ and log σ²
/// [N, ...] (batch first): one backend op each way (IBackend.Kl*) instead of a chain of elementwise ops.
/// </summary>
public sealed class KlFunction : Function
{
    public static Tensor Forward(Tensor mu, Tensor logVar)
    {
        if (mu.Rank < 2 || mu.Shape[0] < 1 || mu.Length == 0)
            throw new ArgumentException($"Kl: mu must be [N, Z] with N, Z >= 1, got {Tensor.ShapeString(mu.Shape)}.", nameof(mu));
        if (!mu.Shape.AsSpan().SequenceEqual(logVar.Shape) || mu.DType != logVar.DType)
            throw new ArgumentException($"Kl: logVar is {Tensor.ShapeString(logVar.Shape)} {logVar.DType} but mu is {Tensor.ShapeString(mu.Shape)} {mu.DType}.", nameof(logVar));
        int n = mu.Shape[0];
        var kl = Tensor.Empty([n], mu.DType, mu.Backend); // kl_forward writes every row
        mu.Backend.KlForward(kl.Buffer, mu.Buffer, logVar.Buffer, n, mu.Length / n);
        return new KlFunction().Record(kl, mu, logVar);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor mu = Inputs[0], logVar = Inputs[1];
        int n = mu.Shape[0];
        var dMu = mu.EmptyLike();
        var dLogVar = logVar.EmptyLike();
        g.Backend.KlBackward(dMu.Buffer, dLogVar.Buffer, g.Buffer, mu.Buffer, logVar.Buffer, n, mu.Length / n);
        return [dMu, dLogVar];
    }
}
