using SkiaSharp;

namespace BlurVae.Training.Data;

/// <summary>
/// A flat folder of images (CelebA's img_align_celeba style): every file directly inside it, in ordinal name order,
/// except hidden files (names starting with '.'); subfolders are not searched. Each image is decoded with
/// SkiaSharp (PNG, JPEG, and whatever else Skia decodes: BMP, GIF, WebP), centre-cropped to a square of its shorter
/// side, and resized to side×side: repeated exact 2× bilinear halvings (each a 2×2 box average) while the image is at
/// least twice the target, then one Mitchell–Netravali cubic step, so large reductions do not alias. Transparent
/// pixels come out composited over black. Grey images use the Rec. 601 luma 0.299 R + 0.587 G + 0.114 B.
/// <para>
/// A file that is not a decodable image (a stray text file, a truncated or corrupt image) is an error naming the
/// file, unless <c>skipUnreadable</c> is set: then it is skipped and reported through <c>warning</c>.
/// </para>
/// </summary>
public static class ImageFolderReader
{
    private const int ChunkSize = 256;   // files decoded in parallel per round; keeps MaxImages from decoding everything

    /// <param name="directory">The folder.</param>
    /// <param name="side">Output side in pixels.</param>
    /// <param name="channels">3 for RGB, 1 for grey.</param>
    /// <param name="skipUnreadable">Skip (and warn about) files that cannot be decoded instead of failing.</param>
    /// <param name="maxImages">Keep only the first this many readable images (in name order).</param>
    /// <param name="warning">Receives one line per skipped file; null discards them.</param>
    public static ImageDataset Read(string directory, int side, int channels = 3, bool skipUnreadable = false,
        int? maxImages = null, Action<string>? warning = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such directory.");
        if (side <= 0) throw new ArgumentOutOfRangeException(nameof(side), side, "The image side must be positive.");
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        if (maxImages is <= 0) throw new ArgumentOutOfRangeException(nameof(maxImages), maxImages, "The image limit must be positive.");

        var files = Directory.GetFiles(directory)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToArray();
        int limit = maxImages ?? int.MaxValue;
        int imageSize = channels * side * side;
        var images = new List<byte[]>();
        int skipped = 0;
        for (int start = 0; start < files.Length && images.Count < limit; start += ChunkSize)
        {
            int n = Math.Min(ChunkSize, files.Length - start);
            var results = new byte[n][];
            var errors = new Exception?[n];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                try { results[i] = Load(files[start + i], side, channels); }
                catch (Exception e) when (e is DatasetFormatException or IOException or UnauthorizedAccessException) { errors[i] = e; }
            });
            for (int i = 0; i < n && images.Count < limit; i++)
            {
                if (errors[i] is { } error)
                {
                    var wrapped = error as DatasetFormatException ?? new DatasetFormatException(files[start + i], $"cannot read the file ({error.Message})", error);
                    if (!skipUnreadable) throw wrapped;
                    skipped++;
                    warning?.Invoke($"skipped {wrapped.Message}");
                    continue;
                }
                images.Add(results[i]);
            }
        }
        if (images.Count == 0)
            throw new InvalidDataException($"--data '{directory}': no readable images ({files.Length} file(s), {skipped} skipped); put PNG or JPEG images into it, or pass another --data.");
        if ((long)images.Count * imageSize > Array.MaxLength)
            throw new InvalidDataException($"{directory}: {images.Count} images of {channels}×{side}×{side} do not fit in memory as one array; set a maximum image count.");
        var pixels = new byte[images.Count * imageSize];
        for (int k = 0; k < images.Count; k++) images[k].CopyTo(pixels, k * imageSize);
        string name = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))} ({images.Count} images, {side}×{side} {(channels == 1 ? "grey" : "RGB")})";
        return new ImageDataset(name, images.Count, channels, side, side, pixels);
    }

    /// <summary>Decodes, centre-crops and resizes one image to C·side·side bytes in C, H, W order.</summary>
    internal static byte[] Load(string path, int side, int channels)
    {
        var encoded = File.ReadAllBytes(path);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new DatasetFormatException(path, "not an image (no PNG, JPEG or other Skia-decodable signature).");
        var size = codec.Info.Size;
        if (size.Width <= 0 || size.Height <= 0) throw new DatasetFormatException(path, $"the image is {size.Width}×{size.Height}.");
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var full = new SKBitmap(info);
        var result = codec.GetPixels(info, full.GetPixels());
        if (result != SKCodecResult.Success)
            throw new DatasetFormatException(path, $"cannot decode the {codec.EncodedFormat} image: {result}{(result == SKCodecResult.IncompleteInput ? " (truncated file)" : "")}.");

        int square = Math.Min(size.Width, size.Height);
        int x0 = (size.Width - square) / 2, y0 = (size.Height - square) / 2;
        using var fullPixels = full.PeekPixels();
        using var crop = fullPixels.ExtractSubset(new SKRectI(x0, y0, x0 + square, y0 + square))
            ?? throw new InvalidOperationException($"{path}: SkiaSharp could not crop the {size.Width}×{size.Height} image.");
        using var resized = Resize(crop, square, side);
        return ToPlanes(resized, side, channels);
    }

    private static SKBitmap Resize(SKPixmap source, int sourceSide, int side)
    {
        var linear = new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);
        SKBitmap? current = null;
        int cur = sourceSide;
        try
        {
            while (cur >= 2 * side)
            {
                int next = cur / 2;
                var half = NewBitmap(next);
                using (var src = current?.PeekPixels())
                using (var dst = half.PeekPixels())
                    Scale(src ?? source, dst, linear);
                current?.Dispose();
                current = half;
                cur = next;
            }
            var output = NewBitmap(side);
            using (var src = current?.PeekPixels())
            using (var dst = output.PeekPixels())
            {
                var from = src ?? source;
                if (cur == side) from.ReadPixels(dst);
                else Scale(from, dst, new SKSamplingOptions(SKCubicResampler.Mitchell));
            }
            return output;
        }
        finally
        {
            current?.Dispose();
        }
    }

    private static void Scale(SKPixmap src, SKPixmap dst, SKSamplingOptions sampling)
    {
        if (!src.ScalePixels(dst, sampling))
            throw new InvalidOperationException($"SkiaSharp could not scale a {src.Width}×{src.Height} image to {dst.Width}×{dst.Height}.");
    }

    private static SKBitmap NewBitmap(int side) => new(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));

    private static byte[] ToPlanes(SKBitmap bitmap, int side, int channels)
    {
        // Premultiplied RGBA: the colour bytes are already the image composited over black.
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        int stride = bitmap.RowBytes, plane = side * side;
        var output = new byte[channels * plane];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                int p = y * stride + 4 * x, q = y * side + x;
                byte r = rgba[p], g = rgba[p + 1], b = rgba[p + 2];
                if (channels == 3)
                {
                    output[q] = r;
                    output[plane + q] = g;
                    output[2 * plane + q] = b;
                }
                else
                    output[q] = (byte)Math.Round(ImageDataset.Luma(r, g, b));
            }
        return output;
    }
}
