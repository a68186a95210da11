

namespace BlurVae.Training.Data;

/// <summary>
/// An immutable in-memory set of <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// pixels, stored in [0, 1] (as bytes v/255 for 8-bit sources, which is 4× smaller, or as floats for volumes) and
/// delivered as tensors [B, C, H, W] scaled to [−1, 1] (x ↦ 2x − 1), the range of the decoders' tanh output.
/// Every ordering it produces depends only on its arguments (a fixed SplitMix64 generator, not System.Random),
/// so a run resumed at (seed, epoch, batch) sees exactly the batches it would have seen.
/// </summary>
public sealed class ImageDataset
{
    private readonly byte[]? _bytes;    // exactly one of these is set, N·C·H·W values, image-major then CHW
    private readonly float[]? _floats;
    private readonly int[]? _labels;

    /// <summary>
    /// A dataset over 8-bit pixels (value v means v/255), laid out image by image in C, H, W order. The arrays are
    /// taken over, not copied: do not modify them afterwards.
    /// </summary>
    public ImageDataset(string name, int count, int channels, int height, int width, byte[] pixels, int[]? labels = null)
        : this(name, count, channels, height, width, pixels.Length, labels)
    {
        _bytes = pixels;
    }

    /// <summary>A dataset over pixels in [0, 1] (checked), laid out image by image in C, H, W order; the arrays are taken over, not copied.</summary>
    public ImageDataset(string name, int count, int channels, int height, int width, float[] pixels, int[]? labels = null)
        : this(name, count, channels, height, width, pixels.Length, labels)
    {
        for (int i = 0; i < pixels.Length; i++)
            if (!(pixels[i] >= 0f && pixels[i] <= 1f))   // also rejects NaN
                throw new ArgumentException($"Pixel {i} of dataset '{name}' is {pixels[i]}, outside [0, 1].", nameof(pixels));
        _floats = pixels;
    }

    private ImageDataset(string name, int count, int channels, int height, int width, int pixelLength, int[]? labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The image count cannot be negative.");
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"Dataset '{name}': image shape {channels}×{height}×{width} must be positive.");
        long expected = (long)count * channels * height * width;
        if (expected != pixelLength)
            throw new ArgumentException($"Dataset '{name}': {count} images of {channels}×{height}×{width} need {expected} pixels, but {pixelLength} were given.");
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"Dataset '{name}': {labels.Length} labels for {count} images.", nameof(labels));
        Name = name;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        _labels = labels;
    }

    /// <summary>Where the images came from, for logs ("Fashion-MNIST t10k (embedded), train 80%").</summary>
    public string Name { get; }

    public int Count { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>C·H·W, the values per image.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Class labels, one per image, when the source has them (IDX label files, CIFAR); otherwise null.</summary>
    public IReadOnlyList<int>? Labels => _labels;

    public override string ToString() => $"{Name}: {Count} × {Channels}×{Height}×{Width}";

    /// <summary>Pixel (c, y, x) of image <paramref name="index"/> in [0, 1].</summary>
    public float GetPixel(int index, int c, int y, int x)
    {
        CheckIndex(index);
        if ((uint)c >= Channels || (uint)y >= Height || (uint)x >= Width)
            throw new ArgumentOutOfRangeException(nameof(c), $"Pixel ({c}, {y}, {x}) is outside {Channels}×{Height}×{Width}.");
        long i = (long)index * ImageSize + ((long)c * Height + y) * Width + x;
        return _bytes is not null ? _bytes[i] / 255f : _floats![i];
    }

    /// <summary>One image as C·H·W values in [0, 1].</summary>
    public float[] GetImage(int index)
    {
        CheckIndex(index);
        var image = new float[ImageSize];
        int offset = index * ImageSize;
        if (_bytes is not null)
            for (int i = 0; i < image.Length; i++) image[i] = _bytes[offset + i] / 255f;
        else
            Array.Copy(_floats!, offset, image, 0, image.Length);
        return image;
    }

    // ---- batches ----

    /// <summary>
    /// The images at <paramref name="indices"/> as a tensor [B, C, H, W] in [−1, 1]; each value is computed in
    /// double as 2x − 1 and rounded once to <paramref name="dtype"/>.
    /// </summary>
    public Tensor GetBatch(int[] indices, DType dtype = DType.Float32, IBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length == 0) throw new ArgumentException("A batch needs at least one index.", nameof(indices));
        foreach (var i in indices) CheckIndex(i);
        int size = ImageSize;
        int[] shape = [indices.Length, Channels, Height, Width];
        if (dtype == DType.Float64)
        {
            var values = new double[indices.Length * size];
            for (int b = 0; b < indices.Length; b++) FillScaled(indices[b], values.AsSpan(b * size, size));
            return Tensor.FromArray(values, shape, DType.Float64, backend);
        }
        var floats = new float[indices.Length * size];
        for (int b = 0; b < indices.Length; b++) FillScaled(indices[b], floats.AsSpan(b * size, size));
        return Tensor.FromArray(floats, shape, DType.Float32, backend);
    }

    /// <summary>
    /// The order in which epoch <paramref name="epoch"/> visits the images: a permutation of [0, Count) that depends
    /// only on (seed, epoch) when <paramref name="shuffle"/> is true, and 0, 1, 2, … otherwise.
    /// </summary>
    public int[] EpochOrder(int seed, int epoch, bool shuffle = true)
    {
        if (!shuffle) return Enumerable.Range(0, Count).ToArray();
        return new DataRng(seed, epoch).Permutation(Count);
    }

    /// <summary>How many batches <see cref="Batches"/> yields per epoch.</summary>
    public int BatchCount(int batchSize, bool dropLast = false)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        return dropLast ? Count / batchSize : (Count + batchSize - 1) / batchSize;
    }

    /// <summary>
    /// The batches of one epoch, each a tensor [B, C, H, W] in [−1, 1], in the order of
    /// <see cref="EpochOrder"/>(seed, epoch, shuffle). The last batch is smaller unless <paramref name="dropLast"/>
    /// (then a dataset smaller than one batch yields nothing). <paramref name="firstBatch"/> skips the batches before
    /// it without building them, for resuming an epoch part-way. Batches are built lazily, one per MoveNext.
    /// </summary>
    public IEnumerable<Tensor> Batches(int batchSize, int seed, int epoch, bool shuffle = true, bool dropLast = false,
        DType dtype = DType.Float32, IBackend? backend = null, int firstBatch = 0)
    {
        int count = BatchCount(batchSize, dropLast);
        if (firstBatch < 0 || firstBatch > count)
            throw new ArgumentOutOfRangeException(nameof(firstBatch), firstBatch, $"An epoch of {Name} has {count} batches of {batchSize}.");
        return Iterate();

        IEnumerable<Tensor> Iterate()
        {
            var order = EpochOrder(seed, epoch, shuffle);
            for (int b = firstBatch; b < count; b++)
            {
                int start = b * batchSize;
                int length = Math.Min(batchSize, Count - start);
                yield return GetBatch(order.AsSpan(start, length).ToArray(), dtype, backend);
            }
        }
    }

    // ---- derived datasets ----

    /// <summary>
    /// A seeded random split into a training part of round(trainFraction·Count) images (at least one, and at least
    /// one left for the test part) and the rest. Both parts keep the images in their original relative order.
    /// </summary>
    public DatasetSplit Split(double trainFraction = 0.8, int seed = 0)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The training fraction must lie strictly between 0 and 1.");
        if (Count < 2) throw new InvalidOperationException($"{Name} has {Count} image(s); a split needs at least 2.");
        int nTrain = Math.Clamp((int)Math.Round(trainFraction * Count, MidpointRounding.AwayFromZero), 1, Count - 1);
        var perm = new DataRng(seed, DataRng.SplitStream).Permutation(Count);
        var train = perm[..nTrain];
        var test = perm[nTrain..];
        Array.Sort(train);
        Array.Sort(test);
        string Pct(double f) => (f * 100).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        return new DatasetSplit(
            Subset(train, $"{Name}, train {Pct(trainFraction)}% (seed {seed})"),
            Subset(test, $"{Name}, test {Pct(1 - trainFraction)}% (seed {seed})"));
    }

    /// <summary>The images at <paramref name="indices"/> (copied, with their labels), in that order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (var i in indices) CheckIndex(i);
        int size = ImageSize;
        int[]? labels = _labels is null ? null : indices.Select(i => _labels[i]).ToArray();
        name ??= $"{Name} (subset of {indices.Count})";
        if (_bytes is not null)
        {
            var pixels = new byte[(long)indices.Count * size];
            for (int k = 0; k < indices.Count; k++) Array.Copy(_bytes, (long)indices[k] * size, pixels, (long)k * size, size);
            return new ImageDataset(name, indices.Count, Channels, Height, Width, pixels, labels);
        }
        var floats = new float[(long)indices.Count * size];
        for (int k = 0; k < indices.Count; k++) Array.Copy(_floats!, (long)indices[k] * size, floats, (long)k * size, size);
        return new ImageDataset(name, indices.Count, Channels, Height, Width, floats, labels);
    }

    /// <summary>
    /// The images centred on a <paramref name="side"/>×<paramref name="side"/> canvas of the background value 0 in
    /// [0, 1] space, i.e. −1 after scaling: 28×28 Fashion-MNIST becomes 32×32 with 2-pixel black borders. An odd
    /// margin puts the extra pixel at the bottom/right. Returns this dataset when it already has that size.
    /// </summary>
    public ImageDataset PadTo(int side)
    {
        if (side < Height || side < Width)
            throw new ArgumentOutOfRangeException(nameof(side), side, $"Cannot pad {Height}×{Width} images of {Name} to a smaller {side}×{side}.");
        if (side == Height && side == Width) return this;
        double values = (double)Count * Channels * side * side;
        string what = $"Padding the {Count} images of {Name} to {side}×{side}";
        const string Fix = "choose a smaller --side, or fewer images (--max-images) or a smaller dataset.";
        int elementBytes = _bytes is not null ? 1 : 4;
        MemoryBudget.RequireArray(values, elementBytes, what, Fix);
        MemoryBudget.Require(values * elementBytes, what, Fix);
        int top = (side - Height) / 2, left = (side - Width) / 2;
        int planeIn = Height * Width, planeOut = side * side;
        string name = $"{Name}, padded to {side}×{side}";
        if (_bytes is not null)
        {
            var outBytes = new byte[(long)Count * Channels * planeOut];
            CopyPadded(_bytes, outBytes);
            return new ImageDataset(name, Count, Channels, side, side, outBytes, _labels);
        }
        var outFloats = new float[(long)Count * Channels * planeOut];
        CopyPadded(_floats!, outFloats);
        return new ImageDataset(name, Count, Channels, side, side, outFloats, _labels);

        void CopyPadded<T>(T[] src, T[] dst)
        {
            for (long plane = 0; plane < (long)Count * Channels; plane++)
                for (int y = 0; y < Height; y++)
                    Array.Copy(src, plane * planeIn + (long)y * Width, dst, plane * planeOut + (long)(y + top) * side + left, Width);
        }
    }

    /// <summary>
    /// The images with 1 or 3 channels: grey → RGB repeats the plane, RGB → grey takes the Rec. 601 luma
    /// 0.299 R + 0.587 G + 0.114 B. Returns this dataset when it already has that many channels.
    /// </summary>
    public ImageDataset WithChannels(int channels)
    {
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        if (channels == Channels) return this;
        if (Channels != 1 && Channels != 3) throw new InvalidOperationException($"{Name} has {Channels} channels; only 1 ↔ 3 conversions exist.");
        int plane = Height * Width;
        string name = $"{Name}, {(channels == 1 ? "grey" : "RGB")}";
        if (_bytes is not null)
        {
            var dst = new byte[(long)Count * channels * plane];
            for (long n = 0; n < Count; n++)
                for (int p = 0; p < plane; p++)
                {
                    if (channels == 3)
                    {
                        byte v = _bytes[n * plane + p];
                        dst[(n * 3) * plane + p] = dst[(n * 3 + 1) * plane + p] = dst[(n * 3 + 2) * plane + p] = v;
                    }
                    else
                        dst[n * plane + p] = (byte)Math.Round(Luma(_bytes[n * 3 * plane + p], _bytes[(n * 3 + 1) * plane + p], _bytes[(n * 3 + 2) * plane + p]));
                }
            return new ImageDataset(name, Count, channels, Height, Width, dst, _labels);
        }
        var f = _floats!;
        var dstF = new float[(long)Count * channels * plane];
        for (long n = 0; n < Count; n++)
            for (int p = 0; p < plane; p++)
            {
                if (channels == 3)
                    dstF[(n * 3) * plane + p] = dstF[(n * 3 + 1) * plane + p] = dstF[(n * 3 + 2) * plane + p] = f[n * plane + p];
                else
                    dstF[n * plane + p] = (float)Math.Clamp(Luma(f[n * 3 * plane + p], f[(n * 3 + 1) * plane + p], f[(n * 3 + 2) * plane + p]), 0, 1);
            }
        return new ImageDataset(name, Count, channels, Height, Width, dstF, _labels);
    }

    /// <summary>The same images (shared, as they are never written) with other labels.</summary>
    internal ImageDataset WithLabels(int[]? labels) =>
        _bytes is not null
            ? new ImageDataset(Name, Count, Channels, Height, Width, _bytes, labels)
            : new ImageDataset(Name, Count, Channels, Height, Width, _floats!, labels);

    internal static double Luma(double r, double g, double b) => 0.299 * r + 0.587 * g + 0.114 * b;

    // ---- helpers ----

    private static readonly double[] ByteToSigned = Enumerable.Range(0, 256).Select(v => v / 127.5 - 1.0).ToArray();

    private void FillScaled(int index, Span<double> dst)
    {
        int offset = index * ImageSize;
        if (_bytes is not null)
            for (int i = 0; i < dst.Length; i++) dst[i] = ByteToSigned[_bytes[offset + i]];
        else
            for (int i = 0; i < dst.Length; i++) dst[i] = 2.0 * _floats![offset + i] - 1.0;
    }

    private void FillScaled(int index, Span<float> dst)
    {
        int offset = index * ImageSize;
        if (_bytes is not null)
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)ByteToSigned[_bytes[offset + i]];
        else
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)(2.0 * _floats![offset + i] - 1.0);
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} images.");
    }
}
