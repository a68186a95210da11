using System.Runtime.InteropServices;
using SkiaSharp;

namespace BlurVae.Training.Reports;

/// <summary>
/// Lays out rows of cells into one PNG: every column as wide as its widest cell, every row as tall as its tallest,
/// cells centred in their slot, a gap of background colour between and around them, and optional row labels in a
/// column on the left. Shared by <see cref="ImageGrid"/> and <see cref="BlurKernelGrid"/>.
/// </summary>
internal static class GridRenderer
{
    public const float LabelFontSize = 12f;
    private const int LabelPadding = 4;

    // Far above any useful figure; guards against a wrong scale factor allocating gigabytes.
    private const long MaxPixels = 1L << 26;

    public static byte[] RenderPng(IReadOnlyList<IReadOnlyList<RgbImage>> rows, IReadOnlyList<string>? rowLabels, int gap, SKColor background) =>
        Render(rows, rowLabels, gap, background, SKEncodedImageFormat.Png);

    /// <summary>The grid encoded as PNG or JPEG (quality 95).</summary>
    public static byte[] Render(IReadOnlyList<IReadOnlyList<RgbImage>> rows, IReadOnlyList<string>? rowLabels, int gap, SKColor background, SKEncodedImageFormat format)
    {
        if (rows.Count == 0) throw new ArgumentException("A grid needs at least one row.", nameof(rows));
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), gap, "The gap must be non-negative.");
        if (rowLabels is not null && rowLabels.Count != rows.Count)
            throw new ArgumentException($"There are {rowLabels.Count} row labels for {rows.Count} rows.", nameof(rowLabels));

        int columns = rows.Max(r => r.Count);
        var colWidth = new int[columns];
        var rowHeight = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Count; j++)
            {
                colWidth[j] = Math.Max(colWidth[j], rows[i][j].Width);
                rowHeight[i] = Math.Max(rowHeight[i], rows[i][j].Height);
            }

        // Not disposed: the default typeface is a shared instance.
        var typeface = rowLabels is null ? null : LabelTypeface();
        using var font = typeface is null ? null : new SKFont(typeface, LabelFontSize);
        int labelWidth = 0;
        if (font is not null)
            labelWidth = (int)Math.Ceiling(rowLabels!.Max(l => font.MeasureText(l ?? ""))) + 2 * LabelPadding;

        long width = labelWidth + gap + colWidth.Sum(w => (long)w + gap);
        long height = gap + rowHeight.Sum(h => (long)h + gap);
        if (width * height > MaxPixels)
            throw new ArgumentException($"The grid would be {width}×{height} pixels, more than the {MaxPixels} allowed; lower the scale or the number of images.");

        using var bitmap = new SKBitmap(new SKImageInfo((int)width, (int)height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[bitmap.RowBytes * bitmap.Height];
        for (int p = 0; p < pixels.Length; p += 4)
        {
            pixels[p] = background.Red;
            pixels[p + 1] = background.Green;
            pixels[p + 2] = background.Blue;
            pixels[p + 3] = 255;
        }

        int y0 = gap;
        for (int i = 0; i < rows.Count; i++)
        {
            int x0 = labelWidth + gap;
            for (int j = 0; j < columns; j++)
            {
                if (j < rows[i].Count)
                {
                    var cell = rows[i][j];
                    Blit(pixels, bitmap.RowBytes, cell, x0 + (colWidth[j] - cell.Width) / 2, y0 + (rowHeight[i] - cell.Height) / 2);
                }
                x0 += colWidth[j] + gap;
            }
            y0 += rowHeight[i] + gap;
        }
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);

        if (font is not null)
        {
            using var canvas = new SKCanvas(bitmap);
            using var paint = new SKPaint { Color = Contrast(background), IsAntialias = true };
            font.GetFontMetrics(out var metrics);
            y0 = gap;
            for (int i = 0; i < rows.Count; i++)
            {
                // Baseline placed so the text's cap height is centred on the row.
                float baseline = y0 + rowHeight[i] / 2f - (metrics.Ascent + metrics.Descent) / 2f;
                canvas.DrawText(rowLabels![i] ?? "", labelWidth - LabelPadding, baseline, SKTextAlign.Right, font, paint);
                y0 += rowHeight[i] + gap;
            }
            canvas.Flush();
        }

        using var data = bitmap.Encode(format, format == SKEncodedImageFormat.Jpeg ? 95 : 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the grid as PNG.");
        return data.ToArray();
    }

    private static void Blit(byte[] pixels, int rowBytes, RgbImage cell, int x0, int y0)
    {
        for (int y = 0; y < cell.Height; y++)
            for (int x = 0; x < cell.Width; x++)
            {
                int s = (y * cell.Width + x) * 3, d = (y0 + y) * rowBytes + (x0 + x) * 4;
                pixels[d] = cell.Rgb[s];
                pixels[d + 1] = cell.Rgb[s + 1];
                pixels[d + 2] = cell.Rgb[s + 2];
            }
    }

    // Labels in black on light backgrounds and white on dark ones.
    private static SKColor Contrast(SKColor background) =>
        0.299 * background.Red + 0.587 * background.Green + 0.114 * background.Blue > 127 ? SKColors.Black : SKColors.White;

    // A sans-serif face if the system has one; SkiaSharp's default otherwise (which may draw nothing where no fonts
    // are installed; the images themselves do not depend on it).
    private static SKTypeface LabelTypeface() =>
        SKFontManager.Default.MatchFamily("DejaVu Sans") ?? SKFontManager.Default.MatchFamily("Arial") ?? SKTypeface.Default;
}
