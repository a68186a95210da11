using System.Reflection;


namespace BlurVae.Training.Data;

/// <summary>
/// Resolves the dataset spec the command line passes, and serves the Fashion-MNIST test split embedded in this
/// assembly (data/fashion-mnist/, MIT) so that training runs without installing anything.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Manifest resource names of the embedded files.</summary>
    public const string EmbeddedImagesResource = "BlurVae.Data.FashionMnist.t10k-images-idx3-ubyte.gz",
        EmbeddedLabelsResource = "BlurVae.Data.FashionMnist.t10k-labels-idx1-ubyte.gz",
        EmbeddedLicenseResource = "BlurVae.Data.FashionMnist.LICENSE";

    private static readonly Lazy<ImageDataset> Embedded = new(LoadEmbedded);

    /// <summary>
    /// Fashion-MNIST's 10 000 test images (1×28×28, labels 0..9), from the resources of this assembly; loaded
    /// once and shared (datasets are immutable).
    /// </summary>
    public static ImageDataset EmbeddedFashionMnist() => Embedded.Value;

    /// <summary>The licence and copyright text of the embedded dataset.</summary>
    public static string EmbeddedFashionMnistLicense()
    {
        using var reader = new StreamReader(OpenResource(EmbeddedLicenseResource));
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Opens a dataset as a training and a test set. <paramref name="spec"/> is one of
    /// <list type="bullet">
    /// <item><c>embedded</c>: the embedded Fashion-MNIST test split, divided 80/20 (TrainFraction, Seed);</item>
    /// <item><c>fashion-mnist</c>: Debian's /usr/share/datasets/fashion-mnist with its own 60 000/10 000 split;</item>
    /// <item>an MNIST-style directory (train-/t10k- IDX files) or a CIFAR-10 directory (data_batch_*.bin, test_batch.bin): their own split;</item>
    /// <item>an IDX image file (labels read from the matching *-labels-idx1-ubyte file beside it when present) or a CIFAR-10 .bin file;</item>
    /// <item>a .nii / .nii.gz file, or a directory holding such files: patches (PatchCount, Side, MinPatchForeground, Seed);
    /// with two or more files the volumes themselves are split, so no volume feeds both sets;</item>
    /// <item>any other directory: a folder of images (Side, Channels, MaxImages, SkipUnreadableImages).</item>
    /// </list>
    /// Sources without a split of their own are divided by <see cref="ImageDataset.Split"/>(TrainFraction, Seed).
    /// </summary>
    public static DatasetSplit Open(string spec, DatasetOptions? options = null) => Open(spec, options ?? new DatasetOptions(), DebianFashionMnistDirectory);

    /// <summary>
    /// The split a run trains and tests on, as --data, --side, --seed, --max-images and --max-test-images name it (the
    /// VAE's run and the classifier's training read those flags alike): <paramref name="spec"/> (see <see cref="ResolveAuto"/>)
    /// opened, both sets padded to <paramref name="side"/> (0: the smallest power of two, at least 4, that holds the
    /// images), the training set cut to its first <paramref name="maxImages"/> images and the test set to its first
    /// <paramref name="maxTestImages"/> (0: all). Returns the side used.
    /// </summary>
    public static (DatasetSplit Data, int Side) OpenPadded(string spec, int side, int seed, int maxImages = 0, int maxTestImages = 0)
    {
        var split = Open(ResolveAuto(spec), new DatasetOptions { Side = side > 0 ? side : null, Seed = seed });
        var train = split.Train;
        if (side == 0) side = NextPowerOfTwo(Math.Max(train.Height, train.Width));
        if (train.Height > side || train.Width > side)
            throw new UserError($"--side {side} is smaller than the {train.Height}×{train.Width} images of '{spec}': images are padded, never shrunk; pass a larger --side, or --side 0 for the smallest that fits.");
        train = train.PadTo(side);
        var test = split.Test.PadTo(side);
        if (maxImages > 0 && maxImages < train.Count)
            train = train.Subset(Enumerable.Range(0, maxImages).ToArray(), train.Name);
        if (maxTestImages > 0 && maxTestImages < test.Count)
            test = test.Subset(Enumerable.Range(0, maxTestImages).ToArray(), test.Name);
        return (new DatasetSplit(train, test), side);
    }

    /// <summary>
    /// "auto" is Debian's Fashion-MNIST (60 000 + 10 000 images) where the dataset-fashion-mnist package is installed,
    /// and otherwise the embedded 10 000-image subset, so the default works on a fresh machine; other specs pass through.
    /// </summary>
    public static string ResolveAuto(string spec) =>
        spec != "auto" ? spec
        : Directory.Exists(DebianFashionMnistDirectory) && MnistDirectoryReader.IsMnistDirectory(DebianFashionMnistDirectory) ? "fashion-mnist"
        : "embedded";

    internal static DatasetSplit Open(string spec, DatasetOptions options, string debianDirectory)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException("The dataset spec is empty; use 'embedded', 'fashion-mnist' or a path.", nameof(spec));
        if (options.Side is <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Side, "The image side must be positive.");
        if (options.Channels is not (null or 1 or 3)) throw new ArgumentOutOfRangeException(nameof(options), options.Channels, "Images have 1 (grey) or 3 (RGB) channels.");

        if (spec.Equals("embedded", StringComparison.OrdinalIgnoreCase))
            return Shape(EmbeddedFashionMnist().Split(options.TrainFraction, options.Seed), options);
        if (spec.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase))
        {
            if (!MnistDirectoryReader.IsMnistDirectory(debianDirectory))
                throw new DirectoryNotFoundException($"Fashion-MNIST is not installed at {debianDirectory}: install Debian's package (apt-get install dataset-fashion-mnist), pass the directory holding the IDX files, or use 'embedded' (its 10 000 test images, built in).");
            return Shape(MnistDirectoryReader.Read(debianDirectory), options);
        }
        if (File.Exists(spec)) return OpenFile(spec, options);
        if (Directory.Exists(spec)) return OpenDirectory(spec, options);
        throw new FileNotFoundException($"Dataset '{spec}' is neither 'embedded', 'fashion-mnist' nor an existing file or directory.", spec);
    }

    private static DatasetSplit OpenFile(string path, DatasetOptions options)
    {
        if (IsNifti(path)) return OpenNifti([path], options);
        var head = DataFile.ReadAllBytes(path);
        if (IdxReader.LooksLikeIdx(head))
        {
            var images = IdxReader.ParseImages(path, head, Path.GetFileName(path));
            var labelsPath = LabelsBeside(path);
            if (labelsPath is not null)
            {
                var labels = IdxReader.ReadLabels(labelsPath);
                if (labels.Length != images.Count)
                    throw new DatasetFormatException(labelsPath, $"holds {labels.Length} labels but the image file {path} holds {images.Count} images.");
                images = images.WithLabels(labels);
            }
            return Shape(images.Split(options.TrainFraction, options.Seed), options);
        }
        if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".bin.gz", StringComparison.OrdinalIgnoreCase))
            return Shape(CifarReader.ReadFile(path).Split(options.TrainFraction, options.Seed), options);
        throw new DatasetFormatException(path, "not a recognised dataset file: expected an IDX image file (magic 00 00 08 03), a CIFAR-10 .bin batch, or a .nii/.nii.gz volume.");
    }

    private static DatasetSplit OpenDirectory(string dir, DatasetOptions options)
    {
        if (MnistDirectoryReader.IsMnistDirectory(dir)) return Shape(MnistDirectoryReader.Read(dir), options);
        if (CifarReader.FindBatchDirectory(dir) is not null) return Shape(CifarReader.ReadDirectory(dir), options);
        var volumes = Directory.GetFiles(dir).Where(IsNifti).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (volumes.Length > 0) return OpenNifti(volumes, options);
        var images = ImageFolderReader.Read(dir, options.Side ?? DatasetOptions.DefaultImageSide, options.Channels ?? 3,
            options.SkipUnreadableImages, options.MaxImages, options.Warning);
        return images.Split(options.TrainFraction, options.Seed);
    }

    private static DatasetSplit OpenNifti(string[] files, DatasetOptions options)
    {
        int side = options.Side ?? DatasetOptions.DefaultImageSide;
        DatasetSplit split;
        if (files.Length == 1)
        {
            if (options.PatchCount < 2) throw new ArgumentOutOfRangeException(nameof(options), options.PatchCount, "A train/test split needs at least 2 patches.");
            split = NiftiPatchSampler.Sample(files, side, options.PatchCount, options.Seed, options.MinPatchForeground)
                .Split(options.TrainFraction, options.Seed);
        }
        else
        {
            // Split by volume, so test patches come from volumes the model never saw.
            if (options.PatchCount < 2) throw new ArgumentOutOfRangeException(nameof(options), options.PatchCount, "A train/test split needs at least 2 patches.");
            var order = new DataRng(options.Seed, DataRng.VolumeSplitStream).Permutation(files.Length);
            int trainFiles = Math.Clamp((int)Math.Round(options.TrainFraction * files.Length, MidpointRounding.AwayFromZero), 1, files.Length - 1);
            int trainPatches = Math.Clamp((int)Math.Round(options.TrainFraction * options.PatchCount, MidpointRounding.AwayFromZero), 1, options.PatchCount - 1);
            var train = order[..trainFiles].Order().Select(i => files[i]).ToArray();
            var test = order[trainFiles..].Order().Select(i => files[i]).ToArray();
            split = new DatasetSplit(
                NiftiPatchSampler.Sample(train, side, trainPatches, options.Seed, options.MinPatchForeground, $"{train.Length} training volumes"),
                NiftiPatchSampler.Sample(test, side, options.PatchCount - trainPatches, options.Seed, options.MinPatchForeground, $"{test.Length} test volumes"));
        }
        return options.Channels is { } c ? new DatasetSplit(split.Train.WithChannels(c), split.Test.WithChannels(c)) : split;
    }

    // Fixed-size sources: pad to the asked side and convert channels.
    private static DatasetSplit Shape(DatasetSplit split, DatasetOptions options)
    {
        ImageDataset Fix(ImageDataset d)
        {
            if (options.Side is { } side)
            {
                if (side < d.Height || side < d.Width)
                    throw new UserError($"--side {side} is smaller than the {d.Height}×{d.Width} images of {d.Name}: images are padded, never shrunk; pass --side {NextPowerOfTwo(Math.Max(d.Height, d.Width))} or more, or --side 0 (the default) for the smallest that fits.");
                d = d.PadTo(side);
            }
            return options.Channels is { } c ? d.WithChannels(c) : d;
        }
        return new DatasetSplit(Fix(split.Train), Fix(split.Test));
    }

    private static int NextPowerOfTwo(int n)
    {
        int p = 4;
        while (p < n) p *= 2;
        return p;
    }

    private static bool IsNifti(string path) =>
        path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);

    // "x-images-idx3-ubyte[.gz]" → "x-labels-idx1-ubyte[.gz]" in the same directory, when it exists.
    private static string? LabelsBeside(string imagesPath)
    {
        var name = Path.GetFileName(imagesPath);
        int at = name.IndexOf("-images-idx3-ubyte", StringComparison.Ordinal);
        if (at < 0) return null;
        var baseName = name[..at] + "-labels-idx1-ubyte";
        return DataFile.FindPlainOrGzip(Path.GetDirectoryName(Path.GetFullPath(imagesPath))!, baseName);
    }

    private static ImageDataset LoadEmbedded()
    {
        var images = IdxReader.ParseImages(EmbeddedImagesResource, DataFile.Gunzip(EmbeddedImagesResource, ReadResource(EmbeddedImagesResource)), "Fashion-MNIST t10k (embedded)");
        var labels = IdxReader.ParseLabels(EmbeddedLabelsResource, DataFile.Gunzip(EmbeddedLabelsResource, ReadResource(EmbeddedLabelsResource)));
        if (labels.Length != images.Count)
            throw new DatasetFormatException(EmbeddedLabelsResource, $"{labels.Length} labels for {images.Count} images.");
        return images.WithLabels(labels);
    }

    private static byte[] ReadResource(string name)
    {
        using var stream = OpenResource(name);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static Stream OpenResource(string name) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"The embedded resource {name} is missing from {Assembly.GetExecutingAssembly().GetName().Name}; the build did not embed data/fashion-mnist.");
}
