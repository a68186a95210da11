
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Elementwise activations and maps (relu, leaky relu, relu6, tanh, sigmoid, exp, log, abs, square, pow, scale,
/// add-scalar). The derivative of each is in the backend's UnaryBackward, beside its forward.
/// </summary>
public sealed class UnaryFunction : Function
{
    private readonly UnaryOp _op;
    private readonly double _alpha;
    private Tensor _x = null!, _y = null!;

    private UnaryFunction(UnaryOp op, double alpha)
    {
        _op = op;
        _alpha = alpha;
    }

    public static Tensor Forward(UnaryOp op, Tensor x, double alpha = 0)
    {
        var y = x.EmptyLike();
        x.Backend.UnaryForward(op, y.Buffer, x.Buffer, alpha);
        var fn = new UnaryFunction(op, alpha) { _x = x, _y = y };
        return fn.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var dx = g.EmptyLike();
        g.Backend.UnaryBackward(_op, dx.Buffer, g.Buffer, _x.Buffer, _y.Buffer, _alpha);
        return [dx];
    }

    public override string ToString() => $"UnaryFunction({_op})";
}
