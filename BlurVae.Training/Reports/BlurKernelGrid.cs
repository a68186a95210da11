using SkiaSharp;

namespace BlurVae.Training.Reports;

/// <summary>
/// The paper's Figure 2: how the predicted blur kernel of a fixed set of images evolves over training.
/// Rows are epochs (labelled), columns are images; optionally the images themselves form the first row.
/// Each kernel is normalised to its own maximum (0 black, max white) and enlarged by nearest neighbour, so the
/// picture shows its shape and extent, not its absolute height.
/// </summary>
public static class BlurKernelGrid
{
    /// <summary>Rows of the kernel figure at most; with more epochs <see cref="SampleEpochs"/> picks which to show.</summary>
    public const int MaxEpochRows = 12;

    /// <summary>
    /// The 1-based epochs shown out of <paramref name="epochs"/>: all of them up to <paramref name="rows"/>, otherwise
    /// the first, the last and evenly spaced ones between, so the figure keeps a bounded height however long the run.
    /// </summary>
    public static IReadOnlyList<int> SampleEpochs(int epochs, int rows = MaxEpochRows)
    {
        if (rows < 2) throw new ArgumentOutOfRangeException(nameof(rows), rows, "At least the first and the last epoch are shown.");
        if (epochs <= rows) return Enumerable.Range(1, epochs).ToArray();
        return Enumerable.Range(0, rows).Select(i => 1 + (int)Math.Round(i * (epochs - 1.0) / (rows - 1), MidpointRounding.AwayFromZero)).Distinct().ToArray();
    }

    /// <param name="path">The PNG to write (atomically; directories are created).</param>
    /// <param name="kernelsPerEpoch">One tensor per epoch, each [N, k, k] or [N, 1, k, k] with the same N and k, non-negative.</param>
    /// <param name="epochLabels">One label per epoch row, e.g. "epoch 10".</param>
    /// <param name="images">Optional [N, C, H, W] images in [−1, 1] (C = 1 or 3) shown as the first row.</param>
    /// <param name="kernelScale">Screen pixels per kernel tap.</param>
    /// <param name="imageScale">Screen pixels per image pixel.</param>
    /// <param name="gap">Background pixels between and around cells.</param>
    /// <param name="imageLabel">The label of the image row.</param>
    /// <param name="background">Gap and label background, white by default.</param>
    public static void Save(string path, IReadOnlyList<Tensor> kernelsPerEpoch, IReadOnlyList<string> epochLabels, Tensor? images = null,
        int kernelScale = 8, int imageScale = 1, int gap = 2, string imageLabel = "image", SKColor? background = null)
    {
        AtomicFile.CheckPath(path);
        ArgumentNullException.ThrowIfNull(kernelsPerEpoch);
        ArgumentNullException.ThrowIfNull(epochLabels);
        ArgumentNullException.ThrowIfNull(imageLabel);
        if (kernelsPerEpoch.Count == 0) throw new ArgumentException("The kernel grid needs kernels of at least one epoch.", nameof(kernelsPerEpoch));
        if (epochLabels.Count != kernelsPerEpoch.Count)
            throw new ArgumentException($"There are {epochLabels.Count} epoch labels for {kernelsPerEpoch.Count} epochs of kernels.", nameof(epochLabels));
        ImageGrid.CheckScale(kernelScale, nameof(kernelScale));
        ImageGrid.CheckScale(imageScale, nameof(imageScale));

        var rows = new List<IReadOnlyList<RgbImage>>();
        var labels = new List<string>();
        int[]? first = null;
        for (int e = 0; e < kernelsPerEpoch.Count; e++)
        {
            var (n, kh, kw, values) = ReadKernels(kernelsPerEpoch[e], e);
            first ??= [n, kh, kw];
            if (first[0] != n || first[1] != kh || first[2] != kw)
                throw new ArgumentException($"kernelsPerEpoch[{e}] holds {n} kernels of {kh}×{kw}, but kernelsPerEpoch[0] holds {first[0]} of {first[1]}×{first[2]}; every epoch must show the same images.", nameof(kernelsPerEpoch));
            var row = new RgbImage[n];
            for (int i = 0; i < n; i++) row[i] = KernelImage(values.AsSpan(i * kh * kw, kh * kw), kh, kw, e, i).ScaleUp(kernelScale);
            rows.Add(row);
            labels.Add(epochLabels[e] ?? "");
        }
        if (images is not null)
        {
            var pictures = RgbImage.FromImageBatch(images, nameof(images));
            if (pictures.Length != first![0])
                throw new ArgumentException($"'images' has {pictures.Length} images but each epoch has {first[0]} kernels.", nameof(images));
            rows.Insert(0, pictures.Select(p => p.ScaleUp(imageScale)).ToArray());
            labels.Insert(0, imageLabel);
        }
        AtomicFile.WriteAllBytes(path, GridRenderer.RenderPng(rows, labels, gap, background ?? ImageGrid.DefaultBackground));
    }

    private static (int N, int Kh, int Kw, double[] Values) ReadKernels(Tensor kernels, int epoch)
    {
        string name = $"kernelsPerEpoch[{epoch}]";
        ArgumentNullException.ThrowIfNull(kernels, name);
        var s = kernels.Shape;
        int n, kh, kw;
        if (s.Length == 3) (n, kh, kw) = (s[0], s[1], s[2]);
        else if (s.Length == 4 && s[1] == 1) (n, kh, kw) = (s[0], s[2], s[3]);
        else throw new ArgumentException($"{name} must be [N, k, k] or [N, 1, k, k], not {Tensor.ShapeString(s)}.", nameof(kernels));
        if (n < 1 || kh < 1 || kw < 1) throw new ArgumentException($"{name} must not be empty, got {Tensor.ShapeString(s)}.", nameof(kernels));
        return (n, kh, kw, kernels.ToDoubleArray());
    }

    // Grey levels value / max(kernel): the kernel's peak is white, zero black.
    private static RgbImage KernelImage(ReadOnlySpan<double> k, int kh, int kw, int epoch, int index)
    {
        double max = 0;
        for (int j = 0; j < k.Length; j++)
        {
            if (!double.IsFinite(k[j]) || k[j] < 0)
                throw new ArgumentException($"Kernel {index} of epoch row {epoch} has the value {k[j]} at ({j / kw}, {j % kw}); blur kernels must be finite and non-negative.", "kernelsPerEpoch");
            max = Math.Max(max, k[j]);
        }
        if (max <= 0) throw new ArgumentException($"Kernel {index} of epoch row {epoch} is all zeros and cannot be normalised to its maximum.", "kernelsPerEpoch");
        var img = new RgbImage(kw, kh);
        for (int j = 0; j < k.Length; j++)
        {
            byte g = RgbImage.ToByte(k[j] / max);
            img.Rgb[j * 3] = img.Rgb[j * 3 + 1] = img.Rgb[j * 3 + 2] = g;
        }
        return img;
    }
}
