
namespace BlurVae.Training.Engine.Autograd;

/// <summary>x[..., start:start+length, ...] along one axis (the building block of Chunk); backward pads with zeros in
/// the same op (IBackend.NarrowBackward: one write of the whole gradient, no zero-fill first).</summary>
public sealed class NarrowFunction : Function
{
    private int _axis, _start;

    public static Tensor Forward(Tensor x, int axis, int start, int length)
    {
        int a = x.NormalizeAxis(axis);
        if (start < 0 || length < 0 || start + length > x.Shape[a])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) outside axis {a} of extent {x.Shape[a]}.");
        var (outer, inner) = OuterInner(x.Shape, a);
        var shape = (int[])x.Shape.Clone();
        shape[a] = length;
        var y = Tensor.Empty(shape, x.DType, x.Backend);
        x.Backend.CopyAxisSlice(y.Buffer, length, 0, x.Buffer, x.Shape[a], start, outer, length, inner, accumulate: false);
        return new NarrowFunction { _axis = a, _start = start }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        var (outer, inner) = OuterInner(x.Shape, _axis);
        g.Backend.NarrowBackward(dx.Buffer, x.Shape[_axis], _start, g.Buffer, outer, g.Shape[_axis], inner);
        return [dx];
    }

    internal static (int Outer, int Inner) OuterInner(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, inner);
    }
}

/// <summary>
/// x split into its two halves along one axis (μ and log σ² from the encoder's statistics): one node with two outputs,
/// one op each way (IBackend.Split*). Backward runs once with both outputs' gradients and writes the whole of x's
/// gradient in one pass (zeros for a half no gradient reached): no zero-fill, no accumulation of two padded halves.
/// </summary>
public sealed class SplitFunction : MultiOutputFunction
{
    private int _axis;

    public static (Tensor First, Tensor Second) Forward(Tensor x, int axis)
    {
        int a = x.NormalizeAxis(axis);
        if (x.Shape[a] % 2 != 0 || x.Shape[a] == 0)
            throw new ArgumentException($"Split into halves needs an even, non-zero extent; axis {a} of {Tensor.ShapeString(x.Shape)} has {x.Shape[a]}.", nameof(axis));
        var (outer, inner) = NarrowFunction.OuterInner(x.Shape, a);
        var shape = (int[])x.Shape.Clone();
        shape[a] /= 2;
        Tensor first = Tensor.Empty(shape, x.DType, x.Backend), second = Tensor.Empty(shape, x.DType, x.Backend);
        if (inner > 0) x.Backend.SplitForward(first.Buffer, second.Buffer, x.Buffer, outer, shape[a], inner);
        var outputs = new SplitFunction { _axis = a }.RecordOutputs([first, second], x);
        return (outputs[0], outputs[1]);
    }

    public override Tensor?[] Backward(Tensor?[] gradOutputs)
    {
        var x = Inputs[0];
        var (outer, inner) = NarrowFunction.OuterInner(x.Shape, _axis);
        var dx = x.EmptyLike();
        if (inner > 0) x.Backend.SplitBackward(dx.Buffer, gradOutputs[0]?.Buffer, gradOutputs[1]?.Buffer, outer, x.Shape[_axis] / 2, inner);
        return [dx];
    }
}

/// <summary>Concatenation along one axis; each input's gradient is its slab of the output gradient.</summary>
public sealed class ConcatFunction : Function
{
    private int _axis;

    public static Tensor Forward(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat of no tensors.", nameof(xs));
        var first = xs[0];
        int a = first.NormalizeAxis(axis);
        int total = 0;
        foreach (var x in xs)
        {
            if (x.Rank != first.Rank || x.DType != first.DType)
                throw new ArgumentException($"Concat of {x} with {first}: ranks and dtypes must match.", nameof(xs));
            for (int i = 0; i < x.Rank; i++)
                if (i != a && x.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"Concat along axis {a}: shapes {Tensor.ShapeString(first.Shape)} and {Tensor.ShapeString(x.Shape)} differ on axis {i}.", nameof(xs));
            total += x.Shape[a];
        }
        var shape = (int[])first.Shape.Clone();
        shape[a] = total;
        var y = Tensor.Empty(shape, first.DType, first.Backend);
        var (outer, inner) = NarrowFunction.OuterInner(shape, a);
        int offset = 0;
        foreach (var x in xs)
        {
            y.Backend.CopyAxisSlice(y.Buffer, total, offset, x.Buffer, x.Shape[a], 0, outer, x.Shape[a], inner, accumulate: false);
            offset += x.Shape[a];
        }
        return new ConcatFunction { _axis = a }.Record(y, xs.ToArray());
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var grads = new Tensor?[Inputs.Length];
        var (outer, inner) = NarrowFunction.OuterInner(g.Shape, _axis);
        int offset = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            var x = Inputs[i];
            int len = x.Shape[_axis];
            if (NeedsGrad(i))
            {
                var dx = x.EmptyLike();
                g.Backend.CopyAxisSlice(dx.Buffer, len, 0, g.Buffer, g.Shape[_axis], offset, outer, len, inner, accumulate: false);
                grads[i] = dx;
            }
            offset += len;
        }
        return grads;
    }
}
