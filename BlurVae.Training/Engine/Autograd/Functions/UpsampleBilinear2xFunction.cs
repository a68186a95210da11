
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Bilinear 2× upsampling of x[N, C, H, W] with align_corners = false (architecture B's decoder).</summary>
public sealed class UpsampleBilinear2xFunction : Function
{
    public static Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"Upsample expects [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = Tensor.Empty([x.Shape[0], x.Shape[1], 2 * h, 2 * w], x.DType, x.Backend);
        x.Backend.UpsampleBilinear2xForward(y.Buffer, x.Buffer, planes, h, w);
        return new UpsampleBilinear2xFunction().Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        return [GradOf(0, dx => g.Backend.UpsampleBilinear2xBackward(dx, g.Buffer, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3]))];
    }
}
