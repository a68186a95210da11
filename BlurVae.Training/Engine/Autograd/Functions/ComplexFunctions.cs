
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Complex product a·b of tensors that store complex numbers as a trailing axis of 2 (re, im), the layout of
/// Rfft2. The leading axes broadcast as in numpy, so one kernel spectrum [N, 1, H, W/2+1, 2] multiplies every
/// channel of an image spectrum [N, C, H, W/2+1, 2].
/// As a real-linear map in each operand the adjoint is multiplication by the conjugate of the other:
/// ∂L/∂a = g·conj(b) and ∂L/∂b = g·conj(a), each summed back down over the axes it was broadcast along.
/// </summary>
public sealed class ComplexMulFunction : Function
{
    private Tensor _a = null!, _b = null!;

    public static Tensor Forward(Tensor a, Tensor b)
    {
        CheckComplex(a, nameof(a));
        CheckComplex(b, nameof(b));
        if (a.DType != b.DType)
            throw new ArgumentException($"Complex product of a {a.DType} and a {b.DType} tensor; convert one with To().", nameof(b));
        Tensor y;
        // The product is assembled from recorded ops; none of them may land on the tape (this node replaces them).
        using (GradMode.NoGrad()) y = Product(a, b, conjugateB: false);
        return new ComplexMulFunction { _a = a, _b = b }.Record(y, a, b);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor? ga = null, gb = null;
        if (NeedsGrad(0)) ga = BinaryFunction.SumToShape(Product(g, _b, conjugateB: true), _a.Shape);
        if (NeedsGrad(1)) gb = BinaryFunction.SumToShape(Product(g, _a, conjugateB: true), _b.Shape);
        return [ga, gb];
    }

    /// <summary>a·b, or a·conj(b), with broadcasting; the caller decides whether it is recorded.</summary>
    internal static Tensor Product(Tensor a, Tensor b, bool conjugateB)
    {
        var (ar, ai) = (a.Narrow(-1, 0, 1), a.Narrow(-1, 1, 1));
        var (br, bi) = (b.Narrow(-1, 0, 1), b.Narrow(-1, 1, 1));
        Tensor re, im;
        if (conjugateB)
        {
            re = ar * br + ai * bi;
            im = ai * br - ar * bi;
        }
        else
        {
            re = ar * br - ai * bi;
            im = ar * bi + ai * br;
        }
        return Tensor.Concat([re, im], -1);
    }

    private static void CheckComplex(Tensor t, string name)
    {
        if (t.Rank < 1 || t.Shape[^1] != 2)
            throw new ArgumentException($"A complex tensor stores (re, im) on a trailing axis of 2; got {Tensor.ShapeString(t.Shape)}.", name);
    }
}
