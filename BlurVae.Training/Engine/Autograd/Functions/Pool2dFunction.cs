
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// 2-D max or average pooling of x[N, C, H, W] (PyTorch's max_pool2d, avg_pool2d with count_include_pad, and the
/// adaptive forms; floor mode, no dilation). The geometry and its window rule are <see cref="PoolGeometry"/>.
/// </summary>
public sealed class Pool2dFunction : Function
{
    private PoolGeometry _g;

    /// <summary>Fixed windows: kernel, stride and padding per axis (H, W).</summary>
    public static Tensor Pool(Tensor x, PoolMode mode, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool countIncludePad = true)
    {
        CheckRank(x);
        return Forward(x, PoolGeometry.ForPool(mode, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], kernel, stride, padding, countIncludePad));
    }

    /// <summary>Adaptive windows onto an outH × outW output.</summary>
    public static Tensor Adaptive(Tensor x, PoolMode mode, int outH, int outW)
    {
        CheckRank(x);
        return Forward(x, PoolGeometry.ForAdaptive(mode, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], outH, outW));
    }

    private static void CheckRank(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"Pooling expects [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
    }

    private static Tensor Forward(Tensor x, PoolGeometry g)
    {
        var y = Tensor.Empty([x.Shape[0], x.Shape[1], g.OutH, g.OutW], x.DType, x.Backend);
        x.Backend.Pool2dForward(y.Buffer, x.Buffer, g);
        return new Pool2dFunction { _g = g }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor gy) => [GradOf(0, dx => gy.Backend.Pool2dBackward(dx, gy.Buffer, Inputs[0].Buffer, _g))];
}
