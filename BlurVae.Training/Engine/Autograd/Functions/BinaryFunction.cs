
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// a op b for op in {+, −, ×, ÷} with numpy broadcasting (shapes aligned on the right). The backward sums each
/// gradient back down to its operand's shape, so per-channel and scalar operands get the right gradients.
/// </summary>
public sealed class BinaryFunction : Function
{
    private readonly BinaryOp _op;
    private Tensor _a = null!, _b = null!, _y = null!;

    private BinaryFunction(BinaryOp op) => _op = op;

    public static Tensor Forward(BinaryOp op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op} of a {a.DType} and a {b.DType} tensor; convert one with To().");
        var yShape = BroadcastShape(a.Shape, b.Shape);
        var y = Tensor.Empty(yShape, a.DType, a.Backend);
        a.Backend.BinaryForward(op, y.Buffer, yShape, a.Buffer, PadRank(a.Shape, yShape.Length), b.Buffer, PadRank(b.Shape, yShape.Length));
        var fn = new BinaryFunction(op) { _a = a, _b = b, _y = y };
        return fn.Record(y, a, b);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor? ga = null, gb = null;
        switch (_op)
        {
            case BinaryOp.Add:
                if (NeedsGrad(0)) ga = SumToShape(g, _a.Shape);
                if (NeedsGrad(1)) gb = SumToShape(g, _b.Shape);
                break;
            case BinaryOp.Sub:
                if (NeedsGrad(0)) ga = SumToShape(g, _a.Shape);
                if (NeedsGrad(1)) gb = SumToShape(UnaryFunction.Forward(UnaryOp.Scale, g, -1.0), _b.Shape);
                break;
            case BinaryOp.Mul:
                if (NeedsGrad(0)) ga = SumToShape(Forward(BinaryOp.Mul, g, _b), _a.Shape);
                if (NeedsGrad(1)) gb = SumToShape(Forward(BinaryOp.Mul, g, _a), _b.Shape);
                break;
            case BinaryOp.Div:
                if (NeedsGrad(0)) ga = SumToShape(Forward(BinaryOp.Div, g, _b), _a.Shape);
                // d(a/b)/db = −a/b² = −y/b
                if (NeedsGrad(1)) gb = SumToShape(UnaryFunction.Forward(UnaryOp.Scale, Forward(BinaryOp.Div, Forward(BinaryOp.Mul, g, _y), _b), -1.0), _b.Shape);
                break;
        }
        return [ga, gb];
    }

    public override string ToString() => $"BinaryFunction({_op})";

    /// <summary>numpy's broadcast of two shapes.</summary>
    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var y = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {Tensor.ShapeString(a)} and {Tensor.ShapeString(b)} do not broadcast.");
            y[i] = da == 1 ? db : da;
        }
        return y;
    }

    internal static int[] PadRank(int[] shape, int rank)
    {
        if (shape.Length == rank) return shape;
        var padded = new int[rank];
        Array.Fill(padded, 1);
        Array.Copy(shape, 0, padded, rank - shape.Length, shape.Length);
        return padded;
    }

    /// <summary>Sums g (of the broadcast shape) over the axes along which `shape` was broadcast.</summary>
    internal static Tensor SumToShape(Tensor g, int[] shape)
    {
        if (g.Shape.AsSpan().SequenceEqual(shape)) return g;
        var y = Tensor.Empty(shape, g.DType, g.Backend);
        g.Backend.SumTo(y.Buffer, PadRank(shape, g.Rank), g.Buffer, g.Shape);
        return y;
    }
}
