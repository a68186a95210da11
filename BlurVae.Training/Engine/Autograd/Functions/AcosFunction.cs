using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// acos(x) elementwise on [−1, 1] (NaN outside, as Math.Acos); backward −1/√(1 − x²), infinite at ±1, which is why
/// the Watson-DFT phase term shrinks its argument by a factor just below 1. Host-side in double precision.
/// </summary>
public sealed class AcosFunction : Function
{
    private double[] _x = null!;

    public static Tensor Forward(Tensor x)
    {
        var xv = x.ToDoubleArray();
        var y = new double[xv.Length];
        TensorPrimitives.Acos<double>(xv, y);
        return new AcosFunction { _x = xv }.Record(Tensor.FromArray(y, x.Shape, x.DType, x.Backend), x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var gv = g.ToDoubleArray();
        for (int i = 0; i < gv.Length; i++) gv[i] *= -1.0 / Math.Sqrt(1.0 - _x[i] * _x[i]);
        return [Tensor.FromArray(gv, g.Shape, g.DType, g.Backend)];
    }
}
