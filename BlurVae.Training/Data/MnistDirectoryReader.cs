namespace BlurVae.Training.Data;

/// <summary>
/// A directory laid out like MNIST / Fashion-MNIST (e.g. /usr/share/datasets/fashion-mnist from Debian's
/// dataset-fashion-mnist package): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
/// t10k-labels-idx1-ubyte, each optionally with ".gz". The train/t10k files give the dataset's own split;
/// label files are optional.
/// </summary>
public static class MnistDirectoryReader
{
    private const string TrainImages = "train-images-idx3-ubyte", TrainLabels = "train-labels-idx1-ubyte";
    private const string TestImages = "t10k-images-idx3-ubyte", TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>True when the directory holds both image files (plain or gzip).</summary>
    public static bool IsMnistDirectory(string directory) =>
        Directory.Exists(directory)
        && DataFile.FindPlainOrGzip(directory, TrainImages) is not null
        && DataFile.FindPlainOrGzip(directory, TestImages) is not null;

    /// <summary>Reads the train and t10k parts as the training and test sets.</summary>
    public static DatasetSplit Read(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such directory.");
        string label = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var train = ReadPart(directory, TrainImages, TrainLabels, $"{label} train");
        var test = ReadPart(directory, TestImages, TestLabels, $"{label} t10k");
        if (train.Height != test.Height || train.Width != test.Width)
            throw new DatasetFormatException(directory, $"the training images are {train.Height}×{train.Width} but the test images are {test.Height}×{test.Width}.");
        return new DatasetSplit(train, test);
    }

    private static ImageDataset ReadPart(string directory, string images, string labels, string name)
    {
        var imagePath = DataFile.FindPlainOrGzip(directory, images)
            ?? throw new FileNotFoundException($"{directory}: missing {images} (or {images}.gz); an MNIST-style directory holds {TrainImages}, {TestImages} and their label files.");
        return IdxReader.ReadImages(imagePath, DataFile.FindPlainOrGzip(directory, labels), name);
    }
}
