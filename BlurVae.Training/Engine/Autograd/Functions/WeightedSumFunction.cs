
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// y = Σ_k w_k·x_k over tensors of one shape (1 to 8 terms), one backend op each way (IBackend.WeightedSum*): the
/// ELBO reconstruction + β·KL is one launch forward and one backward instead of a scale, an add and the scale's
/// backward. Backward: ∂x_k = w_k·∂y, every term that wants a gradient in one call.
/// </summary>
public sealed class WeightedSumFunction : Function
{
    private double[] _weights = [];

    public static Tensor Forward(IReadOnlyList<Tensor> terms, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(weights);
        if (terms.Count is < 1 or > ShapeRules.MaxWeightedSumTerms)
            throw new ArgumentException($"WeightedSum: 1 to {ShapeRules.MaxWeightedSumTerms} terms, got {terms.Count}.", nameof(terms));
        if (weights.Count != terms.Count) throw new ArgumentException($"WeightedSum: {terms.Count} terms but {weights.Count} weights.", nameof(weights));
        var first = terms[0];
        foreach (var t in terms)
            if (!t.Shape.AsSpan().SequenceEqual(first.Shape) || t.DType != first.DType || !ReferenceEquals(t.Backend, first.Backend))
                throw new ArgumentException($"WeightedSum: every term must be {Tensor.ShapeString(first.Shape)} {first.DType} on {first.Backend.Name}, got {Tensor.ShapeString(t.Shape)} {t.DType} on {t.Backend.Name}.", nameof(terms));
        var y = first.EmptyLike();
        first.Backend.WeightedSumForward(y.Buffer, [.. terms.Select(t => t.Buffer)], weights);
        return new WeightedSumFunction { _weights = [.. weights] }.Record(y, [.. terms]);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var grads = new Tensor?[Inputs.Length];
        var wanted = Enumerable.Range(0, Inputs.Length).Where(NeedsGrad).ToArray();
        foreach (int k in wanted) grads[k] = Inputs[k].EmptyLike();
        if (wanted.Length > 0)
            g.Backend.WeightedSumBackward([.. wanted.Select(k => grads[k]!.Buffer)], [.. wanted.Select(k => _weights[k])], g.Buffer);
        return grads;
    }
}
