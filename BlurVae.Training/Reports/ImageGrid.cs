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

    /// <summary>
    /// A batch [N, C, H, W] wrapped into rows of <paramref name="columns"/> images (the last row may be short), as PNG,
    /// or as JPEG where the path ends in .jpg or .jpeg.
    /// </summary>
    public static void SaveSamples(string path, Tensor images, int columns, int scale = 1, int gap = 2, SKColor? background = null)
    {
        AtomicFile.CheckPath(path);
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "The number of columns must be positive.");
        CheckScale(scale);
        var all = RgbImage.FromImageBatch(images, nameof(images)).Select(c => c.ScaleUp(scale)).ToArray();
        var cells = all.Chunk(columns).Select(r => (IReadOnlyList<RgbImage>)r).ToList();
        AtomicFile.WriteAllBytes(path, GridRenderer.Render(cells, null, gap, background ?? DefaultBackground, FormatOf(path)));
    }

    /// <summary>
    /// Two batches of the same images (e.g. inputs and their reconstructions) wrapped into bands of
    /// <paramref name="columns"/>: each band is a row of <paramref name="top"/> above the matching row of
    /// <paramref name="bottom"/>, so a long batch becomes a near-square picture instead of one very wide row.
    /// </summary>
    public static void SavePairs(string path, Tensor top, Tensor bottom, int columns, (string Top, string Bottom) labels, int scale = 1, int gap = 2)
    {
        AtomicFile.CheckPath(path);
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "The number of columns must be positive.");
        CheckScale(scale);
        var a = RgbImage.FromImageBatch(top, nameof(top)).Select(c => c.ScaleUp(scale)).Chunk(columns).ToArray();
        var b = RgbImage.FromImageBatch(bottom, nameof(bottom)).Select(c => c.ScaleUp(scale)).Chunk(columns).ToArray();
        if (a.Length != b.Length) throw new ArgumentException($"{top.Shape[0]} top images but {bottom.Shape[0]} bottom images.", nameof(bottom));
        var cells = new List<IReadOnlyList<RgbImage>>();
        var rowLabels = new List<string>();
        for (int i = 0; i < a.Length; i++)
        {
            cells.Add(a[i]);
            cells.Add(b[i]);
            rowLabels.Add(labels.Top);
            rowLabels.Add(labels.Bottom);
        }
        AtomicFile.WriteAllBytes(path, GridRenderer.Render(cells, rowLabels, gap, DefaultBackground, FormatOf(path)));
    }

    /// <summary>The extensions a grid can be written as.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>JPEG for .jpg/.jpeg, PNG for .png; any other extension is refused rather than given mislabelled bytes.</summary>
    public static SKEncodedImageFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => SKEncodedImageFormat.Png,
        ".jpg" or ".jpeg" => SKEncodedImageFormat.Jpeg,
        var other => throw new ArgumentException($"'{path}' ends in '{other}'; pictures are written as {string.Join(", ", Extensions)}: choose one of these extensions.", nameof(path)),
    };

    internal static void CheckScale(int scale, string name = "scale")
    {
        if (scale is < 1 or > 64) throw new ArgumentOutOfRangeException(name, scale, "The scale-up factor must lie in [1, 64].");
    }
}
