
namespace BlurVae.Training.Engine.Autograd;

/// <summary>A view with another shape over the same buffer (one extent may be −1: inferred).</summary>
public sealed class ReshapeFunction : Function
{
    public static Tensor Forward(Tensor x, int[] shape)
    {
        var resolved = Resolve(shape, x.Length, x.Shape);
        return new ReshapeFunction().Record(new Tensor(x.Buffer, resolved), x);
    }

    public override Tensor?[] Backward(Tensor g) => [new Tensor(g.Buffer, Inputs[0].Shape)];

    private static int[] Resolve(int[] shape, int length, int[] from)
    {
        var s = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException("Only one extent of a reshape may be -1.", nameof(shape));
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Invalid extent {s[i]} in reshape.", nameof(shape));
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"Cannot reshape {Tensor.ShapeString(from)} to {Tensor.ShapeString(shape)}.", nameof(shape));
            s[infer] = (int)(length / known);
        }
        else if (known != length)
            throw new ArgumentException($"Cannot reshape {Tensor.ShapeString(from)} ({length} elements) to {Tensor.ShapeString(shape)}.", nameof(shape));
        return s;
    }
}
