
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// y = x·Wᵀ + b with x[..., in], W[out, in], b[out] (PyTorch's layout). Backward: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ g.
/// </summary>
public sealed class LinearFunction : Function
{
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear weight must be [out, in], got {Tensor.ShapeString(weight.Shape)}.", nameof(weight));
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[^1] != inF)
            throw new ArgumentException($"Linear layer expects inputs [..., {inF}], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"Linear bias must be [{outF}], got {Tensor.ShapeString(bias.Shape)}.", nameof(bias));
        int rows = x.Length / Math.Max(1, inF);
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outF;
        var y = Tensor.Empty(shape, x.DType, x.Backend);
        double beta = 0.0;
        if (bias is not null)
        {
            x.Backend.BroadcastTo(y.Buffer, [rows, outF], bias.Buffer, [1, outF]);
            beta = 1.0;
        }
        x.Backend.Gemm(false, true, rows, outF, inF, 1.0, x.Buffer, 0, inF, 0, weight.Buffer, 0, inF, 0, beta, y.Buffer, 0, outF, 0);
        var fn = new LinearFunction();
        return bias is null ? fn.Record(y, x, weight) : fn.Record(y, x, weight, bias);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor x = Inputs[0], w = Inputs[1];
        int outF = w.Shape[0], inF = w.Shape[1];
        int rows = x.Length / Math.Max(1, inF);
        var grads = new Tensor?[Inputs.Length];
        if (NeedsGrad(0))
        {
            var gx = x.EmptyLike();
            g.Backend.Gemm(false, false, rows, inF, outF, 1.0, g.Buffer, 0, outF, 0, w.Buffer, 0, inF, 0, 0.0, gx.Buffer, 0, inF, 0);
            grads[0] = gx;
        }
        if (NeedsGrad(1))
        {
            var gw = w.EmptyLike();
            g.Backend.Gemm(true, false, outF, inF, rows, 1.0, g.Buffer, 0, outF, 0, x.Buffer, 0, inF, 0, 0.0, gw.Buffer, 0, inF, 0);
            grads[1] = gw;
        }
        if (Inputs.Length > 2 && NeedsGrad(2))
        {
            var gb = Inputs[2].EmptyLike();
            g.Backend.SumTo(gb.Buffer, [1, outF], g.Buffer, [rows, outF]);
            grads[2] = gb;
        }
        return grads;
    }
}
