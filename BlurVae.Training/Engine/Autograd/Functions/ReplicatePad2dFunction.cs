
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Replicate (edge) padding of the last two axes, as PyTorch's ReplicationPad2d: y[..., i, j] =
/// x[..., clamp(i − top), clamp(j − left)]. Backward sums each output gradient into the source pixel it copied, so
/// edge pixels collect the gradients of their replicas. Host-side index work, so any backend works.
/// </summary>
public sealed class ReplicatePad2dFunction : Function
{
    private int _top, _left, _outH, _outW;

    public static Tensor Forward(Tensor x, int top, int bottom, int left, int right)
    {
        if (x.Rank < 2) throw new ArgumentException($"Replicate padding needs [..., H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentOutOfRangeException(nameof(top), $"Padding must be non-negative, got top {top}, bottom {bottom}, left {left}, right {right}.");
        int h = x.Shape[^2], w = x.Shape[^1];
        if (h == 0 || w == 0) throw new ArgumentException($"Replicate padding of an empty plane {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int outH = h + top + bottom, outW = w + left + right, planes = x.Length / (h * w);
        var shape = (int[])x.Shape.Clone();
        shape[^2] = outH;
        shape[^1] = outW;
        var xv = x.ToDoubleArray();
        var yv = new double[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < outH; i++)
            {
                int src = p * h * w + Math.Clamp(i - top, 0, h - 1) * w, dst = (p * outH + i) * outW;
                for (int j = 0; j < outW; j++) yv[dst + j] = xv[src + Math.Clamp(j - left, 0, w - 1)];
            }
        var y = Tensor.FromArray(yv, shape, x.DType, x.Backend);
        return new ReplicatePad2dFunction { _top = top, _left = left, _outH = outH, _outW = outW }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int h = x.Shape[^2], w = x.Shape[^1], planes = x.Length / (h * w);
        var gv = g.ToDoubleArray();
        var dx = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < _outH; i++)
            {
                int dst = p * h * w + Math.Clamp(i - _top, 0, h - 1) * w, src = (p * _outH + i) * _outW;
                for (int j = 0; j < _outW; j++) dx[dst + Math.Clamp(j - _left, 0, w - 1)] += gv[src + j];
            }
        return [Tensor.FromArray(dx, x.Shape, x.DType, x.Backend)];
    }
}
