
namespace BlurVae.Training.Engine.Distributed;

/// <summary>
/// y = Σ_ranks x inside the graph. Every rank's loss depends on y, so the gradient of the summed loss with respect to
/// each rank's x is the sum of every rank's ∂L/∂y: the backward is the same all-reduce of the incoming gradients.
/// </summary>
public sealed class AllReduceFunction : Function
{
    private ICollectives _collectives = null!;

    public static Tensor Forward(Tensor x, ICollectives collectives)
    {
        var y = x.Detach().Clone();
        collectives.AllReduce([y], average: false);
        return new AllReduceFunction { _collectives = collectives }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var dx = g.Detach().Clone();
        _collectives.AllReduce([dx], average: false);
        return [dx];
    }
}
