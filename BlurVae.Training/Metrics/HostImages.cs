
namespace BlurVae.Training.Metrics;

/// <summary>
/// A batch of images [N, C, H, W] copied to the host in double precision and mapped from the model's [−1, 1]
/// range to [0, 1] pixels by (x + 1) / 2, clamped, which is the scale every metric is defined on.
/// </summary>
internal sealed class HostImages
{
    private HostImages(double[] pixels, int n, int c, int h, int w)
    {
        Pixels = pixels;
        N = n;
        C = c;
        H = h;
        W = w;
    }

    public double[] Pixels { get; }
    public int N { get; }
    public int C { get; }
    public int H { get; }
    public int W { get; }

    public int ImageLength => C * H * W;

    public ReadOnlySpan<double> Image(int i) => Pixels.AsSpan(i * ImageLength, ImageLength);

    public static HostImages FromTensor(Tensor images, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(images, argumentName);
        if (images.Rank != 4 || images.Shape[0] < 1 || images.Shape[1] < 1 || images.Shape[2] < 1 || images.Shape[3] < 1)
            throw new ArgumentException($"'{argumentName}' must be a non-empty image batch [N, C, H, W], not {Tensor.ShapeString(images.Shape)}.", argumentName);
        var values = images.ToDoubleArray();
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            // A NaN pixel has no place in [0, 1]; clamping would hide a diverged model behind a plausible number.
            if (double.IsNaN(v)) throw new ArgumentException($"'{argumentName}' contains NaN at flat index {i}.", argumentName);
            values[i] = Math.Clamp((v + 1) * 0.5, 0.0, 1.0);
        }
        return new HostImages(values, images.Shape[0], images.Shape[1], images.Shape[2], images.Shape[3]);
    }

    /// <summary>Both batches, checked to have the same shape.</summary>
    public static (HostImages Reconstruction, HostImages Original) Pair(Tensor reconstruction, Tensor original)
    {
        var r = FromTensor(reconstruction, nameof(reconstruction));
        var o = FromTensor(original, nameof(original));
        if (!reconstruction.Shape.AsSpan().SequenceEqual(original.Shape))
            throw new ArgumentException($"'reconstruction' {Tensor.ShapeString(reconstruction.Shape)} and 'original' {Tensor.ShapeString(original.Shape)} must have the same shape.", nameof(reconstruction));
        return (r, o);
    }
}
