
namespace BlurVae.Training.Reports;

/// <summary>An 8-bit RGB raster (row-major, 3 bytes a pixel): one cell of a picture grid.</summary>
internal sealed class RgbImage
{
    public RgbImage(int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"An image needs a positive size, not {width}×{height}.");
        Width = width;
        Height = height;
        Rgb = new byte[checked(width * height * 3)];
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }

    /// <summary>Each pixel becomes a factor×factor block (nearest neighbour), so pixels stay crisp.</summary>
    public RgbImage ScaleUp(int factor)
    {
        if (factor == 1) return this;
        var big = new RgbImage(checked(Width * factor), checked(Height * factor));
        for (int y = 0; y < big.Height; y++)
            for (int x = 0; x < big.Width; x++)
            {
                int s = ((y / factor) * Width + x / factor) * 3, d = (y * big.Width + x) * 3;
                big.Rgb[d] = Rgb[s];
                big.Rgb[d + 1] = Rgb[s + 1];
                big.Rgb[d + 2] = Rgb[s + 2];
            }
        return big;
    }

    /// <summary>
    /// The images of a batch [N, C, H, W] in [−1, 1] (C = 1 grey or 3 RGB): byte = round((clamp(v, −1, 1) + 1) / 2 · 255),
    /// so −1 is black (0) and +1 white (255).
    /// </summary>
    public static RgbImage[] FromImageBatch(Tensor images, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(images, argumentName);
        var s = images.Shape;
        if (images.Rank != 4 || s[0] < 1 || s[2] < 1 || s[3] < 1 || (s[1] != 1 && s[1] != 3))
            throw new ArgumentException($"'{argumentName}' must be a non-empty image batch [N, C, H, W] with C = 1 or 3, not {Tensor.ShapeString(s)}.", argumentName);
        int n = s[0], c = s[1], h = s[2], w = s[3], plane = h * w;
        var v = images.ToDoubleArray();
        var result = new RgbImage[n];
        for (int i = 0; i < n; i++)
        {
            var img = new RgbImage(w, h);
            for (int p = 0; p < plane; p++)
                for (int ch = 0; ch < 3; ch++)
                {
                    int src = (i * c + (c == 1 ? 0 : ch)) * plane + p;
                    double x = v[src];
                    if (double.IsNaN(x)) throw new ArgumentException($"'{argumentName}' has NaN at image {i}, channel {src / plane % c}, pixel ({p / w}, {p % w}).", argumentName);
                    img.Rgb[p * 3 + ch] = ToByte((Math.Clamp(x, -1.0, 1.0) + 1) * 0.5);
                }
            result[i] = img;
        }
        return result;
    }

    /// <summary>A value in [0, 1] as a byte, rounding to nearest (0.5 → 128).</summary>
    public static byte ToByte(double unit) => (byte)Math.Round(Math.Clamp(unit, 0.0, 1.0) * 255.0, MidpointRounding.AwayFromZero);
}
