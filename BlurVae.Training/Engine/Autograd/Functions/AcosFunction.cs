using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// acos(x) elementwise on [−1, 1] (NaN outside, as Math.Acos); backward −1/√(1 − x²), infinite at ±1, which is why
/// the Watson-DFT phase term shrinks its argument by a factor just below 1. Host-side in double precision.
/// </summary>
public sealed class AcosFunction : HostElementwiseFunction
{
    public static Tensor Forward(Tensor x) => Apply(new AcosFunction(), x);

    protected override void Map(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Acos<double>(x, y);

    protected override void MultiplyByDerivative(ReadOnlySpan<double> x, Span<double> g)
    {
        for (int i = 0; i < g.Length; i++) g[i] *= -1.0 / Math.Sqrt(1.0 - x[i] * x[i]);
    }
}
