
namespace BlurVae.Training.Losses;

/// <summary>Argument checks shared by the losses, so every loss rejects bad input with the same clear messages.</summary>
internal static class LossArguments
{
    /// <summary>x and xHat must be images [N, C, H, W] of one shape and dtype.</summary>
    public static void CheckImages(string loss, Tensor x, Tensor xHat)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xHat);
        if (x.Rank != 4)
            throw new ArgumentException($"{loss}: the target x must be [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        CheckSameShape(loss, x, xHat);
    }

    /// <summary>x and xHat must share shape and dtype, with the batch on axis 0.</summary>
    public static void CheckBatched(string loss, Tensor x, Tensor xHat)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xHat);
        if (x.Rank < 2)
            throw new ArgumentException($"{loss}: the target x must be [N, ...] with at least one axis after the batch, got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        CheckSameShape(loss, x, xHat);
    }

    private static void CheckSameShape(string loss, Tensor x, Tensor xHat)
    {
        if (!x.Shape.AsSpan().SequenceEqual(xHat.Shape))
            throw new ArgumentException($"{loss}: the reconstruction xHat has shape {Tensor.ShapeString(xHat.Shape)} but the target x has {Tensor.ShapeString(x.Shape)}.", nameof(xHat));
        if (x.DType != xHat.DType)
            throw new ArgumentException($"{loss}: the reconstruction xHat is {xHat.DType} but the target x is {x.DType}.", nameof(xHat));
        if (x.Shape[0] < 1)
            throw new ArgumentException($"{loss}: empty batch {Tensor.ShapeString(x.Shape)}.", nameof(x));
    }

    /// <summary>A finite constant ≥ 0 (Wiener C, log-det ε, focal α).</summary>
    public static void CheckNonNegative(string loss, double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{loss}: {name} must be finite and >= 0.");
    }

    /// <summary>The kernel batch must match the images' batch and dtype (one kernel per image).</summary>
    public static void CheckKernelForImages(string loss, Tensor kernel, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Rank != 3 || kernel.Shape[0] != x.Shape[0])
            throw new ArgumentException($"{loss}: the kernel must be [N, ks, ks] with N = {x.Shape[0]} (one per image), got {Tensor.ShapeString(kernel.Shape)}.", nameof(kernel));
        if (kernel.DType != x.DType)
            throw new ArgumentException($"{loss}: the kernel is {kernel.DType} but the images are {x.DType}.", nameof(kernel));
    }
}
