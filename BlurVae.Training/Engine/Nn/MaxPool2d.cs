
namespace BlurVae.Training.Engine.Nn;

/// <summary>
/// Max pooling with a k×k window and stride s, no padding, floor mode (rows and columns a window cannot reach are
/// dropped), as PyTorch's MaxPool2d(k, s): 2/2 in VGG16, 3/2 in AlexNet. A module over the Pool2d op
/// (<see cref="Tensor.MaxPool2d"/>: kernels/pool.cuh, CpuBackend.Pool.cs), the one max pool every network uses.
/// </summary>
public sealed class MaxPool2d(int kernelSize, int stride) : Module
{
    public int KernelSize { get; } = kernelSize >= 1 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "MaxPool2d needs a window of at least 1.");
    public int Stride { get; } = stride >= 1 ? stride : throw new ArgumentOutOfRangeException(nameof(stride), stride, "MaxPool2d needs a stride of at least 1.");

    public override Tensor Forward(Tensor x) => Pool(x, KernelSize, Stride);

    public static Tensor Pool(Tensor x, int kernelSize, int stride)
    {
        if (x.Rank != 4) throw new ArgumentException($"MaxPool2d takes [N, C, H, W] (got {Tensor.ShapeString(x.Shape)}).");
        if (x.Shape[2] < kernelSize || x.Shape[3] < kernelSize)
            throw new ArgumentException($"MaxPool2d({kernelSize}, {stride}) needs at least {kernelSize}×{kernelSize} pixels (got {x.Shape[2]}×{x.Shape[3]}).");
        return x.MaxPool2d(kernelSize, stride);
    }
}
