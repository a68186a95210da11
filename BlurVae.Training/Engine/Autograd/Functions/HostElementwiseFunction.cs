namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The common part of the elementwise ops that have no IBackend op (cos, acos): computed on the host in double
/// precision, so any backend works. The forward maps x to y and saves x; the backward multiplies the incoming
/// gradient by dy/dx at the saved x. Each op is a subclass with its two rules beside each other.
/// </summary>
public abstract class HostElementwiseFunction : Function
{
    private double[] _x = null!;

    /// <summary>y = f(x) elementwise.</summary>
    protected abstract void Map(ReadOnlySpan<double> x, Span<double> y);

    /// <summary>g ← g·f′(x) elementwise, in place.</summary>
    protected abstract void MultiplyByDerivative(ReadOnlySpan<double> x, Span<double> g);

    /// <summary>Runs <paramref name="fn"/>'s forward on <paramref name="x"/> and records the node.</summary>
    protected static Tensor Apply(HostElementwiseFunction fn, Tensor x)
    {
        fn._x = x.ToDoubleArray();
        var y = new double[fn._x.Length];
        fn.Map(fn._x, y);
        return fn.Record(Tensor.FromArray(y, x.Shape, x.DType, x.Backend), x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var gv = g.ToDoubleArray();
        MultiplyByDerivative(_x, gv);
        return [Tensor.FromArray(gv, g.Shape, g.DType, g.Backend)];
    }
}
