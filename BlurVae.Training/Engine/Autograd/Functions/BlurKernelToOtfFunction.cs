
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The kernels k[N, ks, ks] (ks odd, ≤ H, W) zero-padded to [N, H, W] with their centres rolled to (0, 0), the
/// embedding whose rfft2 is the OTF (Losses.BlurKernelOtf): k[a, b] lands on ((a − r) mod H, (b − r) mod W), r = ks/2.
/// One backend op in place of the narrows, zero blocks and concats of the roll. Backward: the adjoint gather of the
/// ks×ks entries back out of the gradient (the zero padding has none).
/// </summary>
public sealed class BlurKernelToOtfFunction : Function
{
    private int _height, _width;

    public static Tensor Forward(Tensor kernel, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Rank != 3 || kernel.Shape[1] != kernel.Shape[2])
            throw new ArgumentException($"BlurKernelToOtf: the kernel must be a square batch [N, ks, ks], got {Tensor.ShapeString(kernel.Shape)}.", nameof(kernel));
        int n = kernel.Shape[0], ks = kernel.Shape[1];
        var y = Tensor.Empty([n, height, width], kernel.DType, kernel.Backend);
        kernel.Backend.BlurKernelToOtfForward(y.Buffer, kernel.Buffer, n, ks, height, width);
        return new BlurKernelToOtfFunction { _height = height, _width = width }.Record(y, kernel);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var k = Inputs[0];
        var dk = k.EmptyLike();
        g.Backend.BlurKernelToOtfBackward(dk.Buffer, g.Buffer, k.Shape[0], k.Shape[1], _height, _width);
        return [dk];
    }
}
