using BlurVae.Training.Classifier;

namespace BlurVae.Training.Metrics;

/// <summary>
/// FD-FMNIST: the Fréchet distance between the penultimate features of this project's Fashion-MNIST classifier
/// (<see cref="FashionClassifier"/>) on real test images and on reconstructions or samples. Like FID in construction
/// but in a 128-d space of a small classifier trained here, so its values are not FID values and are never called so.
/// </summary>
public sealed class FdFmnist(FashionClassifier classifier)
{
    public const string Name = "FD-FMNIST";

    /// <summary>Why FD-FMNIST does not apply to images of this shape, or null when it does.</summary>
    public static string? NotApplicable(int channels, int side) =>
        channels == 1 && side == FashionClassifier.Side ? null
        : $"{Name} needs grey {FashionClassifier.Side}×{FashionClassifier.Side} images (Fashion-MNIST); this run has {channels}×{side}×{side}";

    /// <summary>Feature statistics of images produced batch by batch ([B, 1, 32, 32] each, any dtype/backend).</summary>
    public FeatureStatistics Statistics(IEnumerable<Tensor> batches) =>
        FeatureExtraction.Statistics(batches, classifier.Features, FashionClassifier.FeatureCount, chunk: int.MaxValue);

    public static double Distance(FeatureStatistics real, FeatureStatistics generated) => FrechetDistance.Compute(real, generated);
}
