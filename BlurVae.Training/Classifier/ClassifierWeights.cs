using System.Globalization;

namespace BlurVae.Training.Classifier;

/// <summary>
/// The Fashion-MNIST classifier's weights file: safetensors with the parameters under their module names and, in the
/// metadata, how they were made (command, data, epochs, seed) and the training and test accuracy. The shipped file
/// (data/fmnist-classifier/, copied beside the program) is what FD-FMNIST uses unless --classifier names another.
/// </summary>
public static class ClassifierWeights
{
    public const string ShippedFileName = "fmnist-classifier.safetensors";

    /// <summary>Where the shipped weights are: beside the program (the build copies them there).</summary>
    public static string ShippedPath => Path.Combine(AppContext.BaseDirectory, ShippedFileName);

    public static void Save(FashionClassifier model, string path, IReadOnlyDictionary<string, string> metadata)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        SafeTensors.Write(path, model.NamedParameters(), metadata);
    }

    /// <summary>Loads a classifier; a missing or mismatched file is an error naming the file and the fix.</summary>
    public static (FashionClassifier Model, IReadOnlyDictionary<string, string> Metadata) Load(string? path, DType dtype = DType.Float32, IBackend? backend = null)
    {
        path ??= ShippedPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"--classifier: the Fashion-MNIST classifier weights '{path}' do not exist, so FD-FMNIST cannot be computed; " +
                                            $"train them with `blurvae train-classifier --out {path}` or pass --classifier FILE.", path);
        var (tensors, metadata) = SafeTensors.Read(path);
        var model = new FashionClassifier(new Random(0), dtype, backend);
        NamedTensors.Restore(model.NamedParameters(), tensors, $"--classifier '{path}'", "it is not a weights file of `blurvae train-classifier`.");
        model.Eval();
        return (model, metadata);
    }

    /// <summary>"test accuracy 0.912, train accuracy 0.934" from a weights file's metadata (or what is missing).</summary>
    public static string Describe(IReadOnlyDictionary<string, string> metadata) =>
        string.Join(", ", new[] { "test_accuracy", "train_accuracy" }.Select(k =>
            $"{k.Replace('_', ' ')} {(metadata.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture).ToString("F4", CultureInfo.InvariantCulture) : "unknown")}"));
}
