
namespace BlurVae.Training.Engine.Nn;

/// <summary>
/// Max pooling with a k×k window and stride s, no padding, floor mode (rows and columns a window cannot reach are
/// dropped), as PyTorch's MaxPool2d(k, s): 2/2 in VGG16, 3/2 in AlexNet. It is an autograd composition of existing
/// ops, not an IBackend op, so it runs and differentiates on every backend: the window is separable, so the maximum
/// is taken over the k column offsets, then over the k row offsets; each offset's elements (o + s·j) are narrowed
/// out with <see cref="Strided"/>, and max(a, b) = relu(a − b) + b combines them, so the gradient reaches the
/// maximum of each window (at an exact tie it goes to the later element, where PyTorch picks the first; ties have
/// probability zero on real-valued inputs).
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
        return MaxOverWindow(MaxOverWindow(x, 3, kernelSize, stride), 2, kernelSize, stride);
    }

    /// <summary>The maximum over the k offsets of a window along one axis: [.., L, ..] → [.., (L − k)/s + 1, ..].</summary>
    private static Tensor MaxOverWindow(Tensor x, int axis, int kernelSize, int stride)
    {
        int outputs = (x.Shape[axis] - kernelSize) / stride + 1;
        var result = Strided(x, axis, 0, outputs, stride);
        for (int offset = 1; offset < kernelSize; offset++)
            result = Max(result, Strided(x, axis, offset, outputs, stride));
        return result;
    }

    /// <summary>
    /// Elements start, start + s, …, start + s·(count − 1) of one axis. The slice of length s·count is reshaped to
    /// [.., count, s, ..] and its first column taken; where that slice runs past the end (by less than s) the axis is
    /// first extended with zeros, which sit in the dropped columns and are never selected.
    /// </summary>
    internal static Tensor Strided(Tensor x, int axis, int start, int count, int stride)
    {
        if (stride == 1) return x.Narrow(axis, start, count);
        int length = x.Shape[axis], needed = start + stride * count;
        if (needed > length)
        {
            var padShape = (int[])x.Shape.Clone();
            padShape[axis] = needed - length;
            x = Tensor.Concat([x, Tensor.Zeros(padShape, x.DType, x.Backend)], axis);
        }
        var slice = x.Narrow(axis, start, stride * count);
        var split = new List<int>(slice.Shape);
        split[axis] = count;
        split.Insert(axis + 1, stride);
        var output = (int[])slice.Shape.Clone();
        output[axis] = count;
        return slice.Reshape(split.ToArray()).Narrow(axis + 1, 0, 1).Reshape(output);
    }

    private static Tensor Max(Tensor a, Tensor b) => (a - b).Relu() + b;
}
