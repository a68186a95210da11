namespace BlurVae.Training.Metrics;

/// <summary>
/// Feature statistics of generated or real images under a feature network (FD-FMNIST's classifier, FID's Inception):
/// each batch is brought to the host, clamped to the data range [−1, 1] (a decoder's output may overshoot it) and fed
/// to the network in float32 on its backend, at most <c>chunk</c> images at a time, without gradients.
/// </summary>
public static class FeatureExtraction
{
    public static FeatureStatistics Statistics(IEnumerable<Tensor> batches, Func<Tensor, Tensor> features, int dimension, int chunk, IBackend? backend = null)
    {
        var all = new List<double>();
        using (GradMode.NoGrad())
            foreach (var batch in batches)
            {
                var values = batch.ToFloatArray();
                for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -1f, 1f);
                int n = batch.Shape[0], per = values.Length / Math.Max(1, n);
                for (int start = 0; start < n; start += chunk)
                {
                    int count = Math.Min(chunk, n - start);
                    var images = Tensor.FromArray(values.AsSpan(start * per, count * per).ToArray(), [count, .. batch.Shape[1..]], DType.Float32, backend);
                    all.AddRange(features(images).ToDoubleArray());
                }
            }
        return FeatureStatistics.Of(all.ToArray(), dimension);
    }
}
