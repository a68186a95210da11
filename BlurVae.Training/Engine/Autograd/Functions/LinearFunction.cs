
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// y = act(x·Wᵀ + b) with x[..., in], W[out, in], b[out] (PyTorch's layout) and act none, ReLU, LeakyReLU (slope ≥ 0) or
/// ReLU6: the GEMM (β = 0), then one op adding the bias and applying act in place (IBackend.BiasActivationForward).
/// Backward: one op for g·act' (read from the output, which the node saves) and ∂b = Σ rows
/// (IBackend.BiasActivationBackward; without act, ∂b is SumTo of g), then ∂x = g'·W and ∂W = g'ᵀ·x.
/// </summary>
public sealed class LinearFunction : Function
{
    private UnaryOp? _activation;
    private double _alpha;
    private Tensor _y = null!;

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, UnaryOp? activation = null, double alpha = 0.0)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear weight must be [out, in], got {Tensor.ShapeString(weight.Shape)}.", nameof(weight));
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[^1] != inF)
            throw new ArgumentException($"Linear layer expects inputs [..., {inF}], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"Linear bias must be [{outF}], got {Tensor.ShapeString(bias.Shape)}.", nameof(bias));
        ShapeRules.LinearActivation(activation, alpha);
        int rows = x.Length / Math.Max(1, inF);
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outF;
        var y = Tensor.Empty(shape, x.DType, x.Backend);
        x.Backend.Gemm(false, true, rows, outF, inF, 1.0, x.Buffer, 0, inF, 0, weight.Buffer, 0, inF, 0, 0.0, y.Buffer, 0, outF, 0);
        if (bias is not null || activation is not null)
            x.Backend.BiasActivationForward(y.Buffer, bias?.Buffer, rows, outF, activation, alpha);
        var fn = new LinearFunction { _activation = activation, _alpha = alpha, _y = y };
        return bias is null ? fn.Record(y, x, weight) : fn.Record(y, x, weight, bias);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor x = Inputs[0], w = Inputs[1];
        int outF = w.Shape[0], inF = w.Shape[1];
        int rows = x.Length / Math.Max(1, inF);
        var grads = new Tensor?[Inputs.Length];
        bool biasGrad = Inputs.Length > 2 && NeedsGrad(2);
        Tensor? gb = biasGrad ? Inputs[2].EmptyLike() : null;
        var gPre = g;
        if (_activation is not null)
        {
            gPre = g.EmptyLike();
            g.Backend.BiasActivationBackward(gPre.Buffer, gb?.Buffer, g.Buffer, _y.Buffer, rows, outF, _activation, _alpha);
        }
        else if (gb is not null)
            g.Backend.SumTo(gb.Buffer, [1, outF], g.Buffer, [rows, outF]);
        if (biasGrad) grads[2] = gb;
        grads[0] = GradOf(0, gx => g.Backend.Gemm(false, false, rows, inF, outF, 1.0, gPre.Buffer, 0, outF, 0, w.Buffer, 0, inF, 0, 0.0, gx, 0, inF, 0));
        grads[1] = GradOf(1, gw => g.Backend.Gemm(true, false, outF, inF, rows, 1.0, gPre.Buffer, 0, outF, 0, x.Buffer, 0, inF, 0, 0.0, gw, 0, inF, 0));
        // g·act' is this backward's own temporary: back to the cache once the GEMMs are enqueued.
        if (!ReferenceEquals(gPre, g)) gPre.Release();
        return grads;
    }
}
