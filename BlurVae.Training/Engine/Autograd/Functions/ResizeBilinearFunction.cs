
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Bilinear resize of x[N, C, H, W] to [N, C, outH, outW] with align_corners = false (PyTorch's
/// F.interpolate(size=…, mode="bilinear")): Inception's resize to 299 × 299.
/// </summary>
public sealed class ResizeBilinearFunction : Function
{
    public static Tensor Forward(Tensor x, int outH, int outW)
    {
        if (x.Rank != 4) throw new ArgumentException($"ResizeBilinear expects [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (outH < 1 || outW < 1) throw new ArgumentOutOfRangeException(nameof(outH), $"ResizeBilinear needs an output size >= 1 (got {outH}x{outW}).");
        var y = Tensor.Empty([x.Shape[0], x.Shape[1], outH, outW], x.DType, x.Backend);
        x.Backend.ResizeBilinearForward(y.Buffer, x.Buffer, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], outH, outW);
        return new ResizeBilinearFunction().Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        return [GradOf(0, dx => g.Backend.ResizeBilinearBackward(dx, g.Buffer, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], g.Shape[2], g.Shape[3]))];
    }
}
