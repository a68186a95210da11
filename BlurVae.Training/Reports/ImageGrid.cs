using BlurVae.Training.Io;
using BlurVae.Training.Engine.Tensors;
using SkiaSharp;

namespace BlurVae.Training.Reports;

/// <summary>
/// PNG grids of images in [−1, 1] (−1 black, +1 white; 1-channel images drawn grey, 3-channel as RGB; values
/// outside the range clamped), e.g. inputs above their reconstructions, or a sheet of random samples.
/// </summary>
public static class ImageGrid
{
    /// <summary>Default gap and background colour: white, like a paper figure.</summary>
    public static readonly SKColor DefaultBackground = SKColors.White;

    /// <summary>
    /// One grid row per tensor [N, C, H, W] (columns = images; rows may differ in N, C ∈ {1, 3}, and in H, W —
    /// cells are centred in their slot), each pixel enlarged to scale×scale (nearest neighbour), gap pixels of
    /// background between and around the images, and optional labels left of the rows. Written atomically.
    /// </summary>
    public static void Save(string path, IReadOnlyList<Tensor> rows, int scale = 1, int gap = 2, IReadOnlyList<string>? rowLabels = null, SKColor? background = null)
    {
        AtomicFile.CheckPath(path);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("An image grid needs at least one row.", nameof(rows));
        CheckScale(scale);
        var cells = new List<IReadOnlyList<RgbImage>>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
            cells.Add(RgbImage.FromImageBatch(rows[i], $"rows[{i}]").Select(c => c.ScaleUp(scale)).ToArray());
        AtomicFile.WriteAllBytes(path, GridRenderer.RenderPng(cells, rowLabels, gap, background ?? DefaultBackground));
    }

    /// <summary>A batch [N, C, H, W] wrapped into rows of <paramref name="columns"/> images (the last row may be short).</summary>
    public static void SaveSamples(string path, Tensor images, int columns, int scale = 1, int gap = 2, SKColor? background = null)
    {
        AtomicFile.CheckPath(path);
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "The number of columns must be positive.");
        CheckScale(scale);
        var all = RgbImage.FromImageBatch(images, nameof(images)).Select(c => c.ScaleUp(scale)).ToArray();
        var cells = all.Chunk(columns).Select(r => (IReadOnlyList<RgbImage>)r).ToList();
        AtomicFile.WriteAllBytes(path, GridRenderer.RenderPng(cells, null, gap, background ?? DefaultBackground));
    }

    internal static void CheckScale(int scale, string name = "scale")
    {
        if (scale is < 1 or > 64) throw new ArgumentOutOfRangeException(name, scale, "The scale-up factor must lie in [1, 64].");
    }
}
