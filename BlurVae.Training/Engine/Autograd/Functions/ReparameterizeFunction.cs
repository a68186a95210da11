
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The reparameterisation z = μ + exp(½ log σ²)·ε as one backend op each way (IBackend.Reparameterize*): ε is
/// noise drawn by the caller and gets no gradient.
/// </summary>
public sealed class ReparameterizeFunction : Function
{
    private Tensor _eps = null!;

    public static Tensor Forward(Tensor mu, Tensor logVar, Tensor eps)
    {
        foreach (var (t, name) in new[] { (logVar, "logVar"), (eps, "eps") })
            if (!t.Shape.AsSpan().SequenceEqual(mu.Shape) || t.DType != mu.DType)
                throw new ArgumentException($"Reparameterize: {name} is {Tensor.ShapeString(t.Shape)} {t.DType} but mu is {Tensor.ShapeString(mu.Shape)} {mu.DType}.", name);
        if (eps.RequiresGrad) throw new ArgumentException("Reparameterize: eps is noise and takes no gradient; pass it detached.", nameof(eps));
        var z = mu.EmptyLike();
        mu.Backend.ReparameterizeForward(z.Buffer, mu.Buffer, logVar.Buffer, eps.Buffer);
        return new ReparameterizeFunction { _eps = eps }.Record(z, mu, logVar);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor mu = Inputs[0], logVar = Inputs[1];
        var dMu = mu.EmptyLike();
        var dLogVar = logVar.EmptyLike();
        g.Backend.ReparameterizeBackward(dMu.Buffer, dLogVar.Buffer, g.Buffer, logVar.Buffer, _eps.Buffer);
        return [dMu, dLogVar];
    }
}
