using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>cos(x) elementwise; backward −sin(x). Host-side in double precision, so any backend works.</summary>
public sealed class CosFunction : HostElementwiseFunction
{
    public static Tensor Forward(Tensor x) => Apply(new CosFunction(), x);

    protected override void Map(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Cos<double>(x, y);

    protected override void MultiplyByDerivative(ReadOnlySpan<double> x, Span<double> g)
    {
        var sin = new double[g.Length];
        TensorPrimitives.Sin<double>(x, sin);
        TensorPrimitives.Multiply<double>(g, sin, g);
        TensorPrimitives.Negate<double>(g, g);
    }
}
