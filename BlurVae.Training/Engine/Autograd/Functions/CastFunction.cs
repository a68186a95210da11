
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Float32 ↔ Float64 conversion; the gradient converts back.</summary>
public sealed class CastFunction : Function
{
    public static Tensor Forward(Tensor x, DType dtype)
    {
        var y = Tensor.Empty(x.Shape, dtype, x.Backend);
        if (dtype == DType.Float32) x.Backend.Upload(y.Buffer, x.ToFloatArray());
        else x.Backend.Upload(y.Buffer, x.ToDoubleArray());
        return new CastFunction().Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g) => [g.To(Inputs[0].DType)];
}
