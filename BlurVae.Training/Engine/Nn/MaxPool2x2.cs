
namespace BlurVae.Training.Engine.Nn;

/// <summary>
/// Max pooling with a 2×2 window and stride 2, floor mode (an odd last row or column is dropped), as PyTorch's
/// MaxPool2d(2, 2) in VGG16. It is an autograd composition of existing ops, not an IBackend op: the image is cut to
/// even size, reshaped to [N, C, H/2, 2, W/2, 2], the four window positions are narrowed out, and
/// max(a, b) = relu(a − b) + b combines them, so the gradient reaches the maximum of each window (at an exact tie it
/// goes to the later element, where PyTorch picks the first; ties have probability zero on real-valued inputs).
/// </summary>
public sealed class MaxPool2x2 : Module
{
    public override Tensor Forward(Tensor x) => Pool(x);

    public static Tensor Pool(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"MaxPool2x2 takes [N, C, H, W] (got {Tensor.ShapeString(x.Shape)}).");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2] / 2, w = x.Shape[3] / 2;
        if (h == 0 || w == 0) throw new ArgumentException($"MaxPool2x2 needs at least 2×2 pixels (got {x.Shape[2]}×{x.Shape[3]}).");
        if (x.Shape[2] != 2 * h) x = x.Narrow(2, 0, 2 * h);
        if (x.Shape[3] != 2 * w) x = x.Narrow(3, 0, 2 * w);
        var windows = x.Reshape(n, c, h, 2, w, 2);
        Tensor At(int dy, int dx) => windows.Narrow(3, dy, 1).Narrow(5, dx, 1).Reshape(n, c, h, w);
        return Max(Max(At(0, 0), At(0, 1)), Max(At(1, 0), At(1, 1)));
    }

    private static Tensor Max(Tensor a, Tensor b) => (a - b).Relu() + b;
}
