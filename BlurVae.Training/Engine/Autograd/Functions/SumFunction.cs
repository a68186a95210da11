
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Sum over the given axes (all when none given); the gradient is broadcast back.</summary>
public sealed class SumFunction : Function
{
    private int[] _keptShape = [];

    public static Tensor Forward(Tensor x, int[]? axes, bool keepDims)
    {
        var reduce = new bool[x.Rank];
        if (axes is null || axes.Length == 0) Array.Fill(reduce, true);
        else
            foreach (var axis in axes)
            {
                int a = x.NormalizeAxis(axis);
                if (reduce[a]) throw new ArgumentException($"Axis {axis} given twice.", nameof(axes));
                reduce[a] = true;
            }
        var kept = new int[x.Rank];
        var outShape = new List<int>();
        for (int i = 0; i < x.Rank; i++)
        {
            kept[i] = reduce[i] ? 1 : x.Shape[i];
            if (!reduce[i] || keepDims) outShape.Add(kept[i]);
        }
        var y = Tensor.Empty(kept, x.DType, x.Backend);
        x.Backend.SumTo(y.Buffer, kept, x.Buffer, x.Shape);
        var result = new Tensor(y.Buffer, outShape.ToArray());
        return new SumFunction { _keptShape = kept }.Record(result, x);
    }

    public override Tensor?[] Backward(Tensor g) => [GradOf(0, dx => g.Backend.BroadcastTo(dx, Inputs[0].Shape, g.Buffer, _keptShape))];
}
