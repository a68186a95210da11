
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Softmax over the last axis (rows). Backward: ∂x = y ⊙ (g − ⟨g, y⟩) per row.</summary>
public sealed class SoftmaxFunction : Function
{
    private Tensor _y = null!;

    public static Tensor Forward(Tensor x)
    {
        if (x.Rank < 1) throw new ArgumentException("Softmax of a scalar.", nameof(x));
        int cols = x.Shape[^1], rows = x.Length / Math.Max(1, cols);
        var y = x.EmptyLike();
        x.Backend.SoftmaxForward(y.Buffer, x.Buffer, rows, cols);
        return new SoftmaxFunction { _y = y }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        int cols = g.Shape[^1], rows = g.Length / Math.Max(1, cols);
        var dx = g.EmptyLike();
        g.Backend.SoftmaxBackward(dx.Buffer, g.Buffer, _y.Buffer, rows, cols);
        return [dx];
    }
}
