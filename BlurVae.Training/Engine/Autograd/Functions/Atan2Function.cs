using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// atan2(y, x) elementwise (both operands of one shape), in (−π, π] as Math.Atan2. Backward:
/// ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²); undefined (NaN) at the origin, as in PyTorch.
/// Computed on the host in double precision so it works on any backend (the Watson-DFT phase term is its user).
/// </summary>
public sealed class Atan2Function : Function
{
    private double[] _y = null!, _x = null!;

    public static Tensor Forward(Tensor y, Tensor x)
    {
        if (!y.Shape.AsSpan().SequenceEqual(x.Shape))
            throw new ArgumentException($"atan2 needs operands of one shape, got {Tensor.ShapeString(y.Shape)} and {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (y.DType != x.DType) throw new ArgumentException($"atan2 of a {y.DType} and a {x.DType} tensor; convert one with To().", nameof(x));
        var yv = y.ToDoubleArray();
        var xv = x.ToDoubleArray();
        var r = new double[yv.Length];
        TensorPrimitives.Atan2<double>(yv, xv, r);
        var output = Tensor.FromArray(r, y.Shape, y.DType, y.Backend);
        return new Atan2Function { _y = yv, _x = xv }.Record(output, y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var gv = g.ToDoubleArray();
        double[]? dy = NeedsGrad(0) ? new double[gv.Length] : null;
        double[]? dx = NeedsGrad(1) ? new double[gv.Length] : null;
        for (int i = 0; i < gv.Length; i++)
        {
            double r2 = _x[i] * _x[i] + _y[i] * _y[i];
            if (dy is not null) dy[i] = gv[i] * _x[i] / r2;
            if (dx is not null) dx[i] = -gv[i] * _y[i] / r2;
        }
        return [
            dy is null ? null : Tensor.FromArray(dy, g.Shape, g.DType, g.Backend),
            dx is null ? null : Tensor.FromArray(dx, g.Shape, g.DType, g.Backend),
        ];
    }
}
