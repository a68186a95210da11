using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>cos(x) elementwise; backward −sin(x). Host-side in double precision, so any backend works.</summary>
public sealed class CosFunction : Function
{
    private double[] _x = null!;

    public static Tensor Forward(Tensor x)
    {
        var xv = x.ToDoubleArray();
        var y = new double[xv.Length];
        TensorPrimitives.Cos<double>(xv, y);
        return new CosFunction { _x = xv }.Record(Tensor.FromArray(y, x.Shape, x.DType, x.Backend), x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var gv = g.ToDoubleArray();
        var sin = new double[gv.Length];
        TensorPrimitives.Sin<double>(_x, sin);
        TensorPrimitives.Multiply<double>(gv, sin, gv);
        TensorPrimitives.Negate<double>(gv, gv);
        return [Tensor.FromArray(gv, g.Shape, g.DType, g.Backend)];
    }
}
