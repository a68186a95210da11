using System.Diagnostics;
using System.Globalization;
using BlurVae.Training.Data;
using BlurVae.Training.Engine.Optim;

namespace BlurVae.Training.Classifier;

/// <summary>The settings of `blurvae train-classifier`.</summary>
public sealed record ClassifierOptions
{
    public string Data { get; init; } = "auto";
    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 128;
    public double Lr { get; init; } = 1e-3;
    public int Seed { get; init; } = 1;
    public int MaxImages { get; init; }
    public int MaxTestImages { get; init; }
    public string Out { get; init; } = ClassifierWeights.ShippedFileName;

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1 (got {Epochs}).");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be positive (got {BatchSize}).");
        if (!(Lr > 0)) throw new ArgumentException($"--lr must be positive (got {Lr}).");
        if (MaxImages < 0 || MaxTestImages < 0) throw new ArgumentException("--max-images and --max-test-images must be ≥ 0.");
    }
}

/// <summary>
/// Trains the <see cref="FashionClassifier"/> with Adam on cross-entropy in float32 on the CPU, then measures its
/// accuracy on the whole training and test splits and writes the weights with both accuracies and the command in
/// the metadata.
/// </summary>
public static class ClassifierTraining
{
    public static (double TrainAccuracy, double TestAccuracy) Run(ClassifierOptions options, string command, TextWriter log)
    {
        options.Validate();
        var (split, _) = DatasetCatalog.OpenPadded(options.Data, FashionClassifier.Side, options.Seed, options.MaxImages, options.MaxTestImages);
        foreach (var part in new[] { split.Train, split.Test })
        {
            if (part.Channels != 1) throw new ArgumentException($"--data '{options.Data}': the classifier takes grey Fashion-MNIST images; {part.Name} has {part.Channels} channels.");
            if (part.Labels is null) throw new ArgumentException($"--data '{options.Data}': {part.Name} has no labels (an IDX image file needs its *-labels-idx1-ubyte file beside it).");
        }
        var model = new FashionClassifier(new Random(options.Seed));
        var adam = new Adam(model.Parameters(), lr: options.Lr);
        log.WriteLine($"Training the Fashion-MNIST classifier ({model.ParameterCount():N0} parameters) on {split.Train} ({split.Test.Count} test images).");
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var order = split.Train.EpochOrder(options.Seed, epoch);
            double lossSum = 0;
            int batches = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                var idx = order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start)).ToArray();
                adam.ZeroGrad();
                var loss = CrossEntropy.Compute(model.Forward(split.Train.GetBatch(idx)), idx.Select(i => split.Train.Labels![i]).ToArray());
                lossSum += loss.Item();
                loss.Backward();
                adam.Step();
                batches++;
            }
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{options.Epochs}: cross-entropy {lossSum / batches:F4}, {clock.Elapsed.TotalSeconds:F1} s"));
        }
        double trainAccuracy = Accuracy(model, split.Train), testAccuracy = Accuracy(model, split.Test);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "blurvae fmnist-classifier v1",
            ["command"] = command,
            ["data"] = split.Train.Name,
            ["train_images"] = split.Train.Count.ToString(CultureInfo.InvariantCulture),
            ["test_images"] = split.Test.Count.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["lr"] = options.Lr.ToString("R", CultureInfo.InvariantCulture),
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["train_accuracy"] = trainAccuracy.ToString("R", CultureInfo.InvariantCulture),
            ["test_accuracy"] = testAccuracy.ToString("R", CultureInfo.InvariantCulture),
            ["features"] = $"body (ReLU of the 2048 → {FashionClassifier.FeatureCount} linear layer), images 1×32×32 in [-1, 1]",
        };
        ClassifierWeights.Save(model, options.Out, metadata);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train accuracy {trainAccuracy:F4}, test accuracy {testAccuracy:F4}; wrote {Path.GetFullPath(options.Out)}"));
        return (trainAccuracy, testAccuracy);
    }

    /// <summary>The share of images whose largest logit is their label.</summary>
    public static double Accuracy(FashionClassifier model, ImageDataset data, int batchSize = 500)
    {
        using var _ = GradMode.NoGrad();
        int correct = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            var idx = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
            var logits = model.Forward(data.GetBatch(idx)).ToDoubleArray();
            int k = FashionClassifier.ClassCount;
            for (int b = 0; b < idx.Length; b++)
            {
                int best = 0;
                for (int c = 1; c < k; c++) if (logits[b * k + c] > logits[b * k + best]) best = c;
                if (best == data.Labels![idx[b]]) correct++;
            }
        }
        return (double)correct / data.Count;
    }
}
