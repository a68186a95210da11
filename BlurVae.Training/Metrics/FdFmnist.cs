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
    public FeatureStatistics Statistics(IEnumerable<Tensor> batches)
    {
        var features = new List<double>();
        using (GradMode.NoGrad())
            foreach (var batch in batches)
                features.AddRange(classifier.Features(ToClassifierInput(batch)).ToDoubleArray());
        return FeatureStatistics.Of(features.ToArray(), FashionClassifier.FeatureCount);
    }

    public static double Distance(FeatureStatistics real, FeatureStatistics generated) => FrechetDistance.Compute(real, generated);

    // The classifier is float32 on the CPU; images from a float64 or device run are brought there, clamped to the data range.
    private static Tensor ToClassifierInput(Tensor images)
    {
        var values = images.ToFloatArray();
        for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -1f, 1f);
        return Tensor.FromArray(values, images.Shape);
    }
}
