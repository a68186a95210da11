using BlurVae.Training.Perceptual;

namespace BlurVae.Training.Metrics;

/// <summary>
/// FID: the Fréchet distance between the pool3 features (2048-d) of pytorch-fid's Inception-v3
/// (<see cref="FidInceptionV3"/>) on real images and on reconstructions or samples, the paper's FID-rec and FID-gen.
/// Grey images are repeated to three channels, every image resized to 299 × 299. The weights are not shipped: a user
/// writes them with tools/export-weights.py fid-inception and passes --inception-weights FILE.
/// </summary>
public sealed class Fid(FidInceptionV3 network, IBackend backend)
{
    public const string Name = "FID";

    /// <summary>Images per Inception forward: a 299² image holds about 20 MB of float32 activations.</summary>
    public const int ChunkImages = 8;

    /// <summary>The network from --inception-weights on <paramref name="backend"/>; a missing or mismatched file is an error naming the flag and the fix.</summary>
    public static Fid Load(string path, IBackend? backend = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"--inception-weights: the Inception weights '{path}' do not exist, so FID cannot be computed; " +
                                            "write them with `python3 tools/export-weights.py fid-inception FILE` where pytorch-fid is installed (pip install pytorch-fid).", path);
        backend ??= Tensor.DefaultBackend;
        var network = new FidInceptionV3(new Random(0), DType.Float32, backend);
        network.Load(path);
        return new Fid(network, backend);
    }

    /// <summary>What FID notes say when no weights were given.</summary>
    public const string Missing = "FID skipped: no Inception weights; pass --inception-weights FILE (written by `python3 tools/export-weights.py fid-inception FILE`).";

    /// <summary>pool3 statistics of images produced batch by batch ([B, 1 or 3, H, W] in [−1, 1], any dtype/backend).</summary>
    public FeatureStatistics Statistics(IEnumerable<Tensor> batches) =>
        FeatureExtraction.Statistics(batches, x => network.Features(x), FidInceptionV3.FeatureCount, ChunkImages, backend);

    public static double Distance(FeatureStatistics real, FeatureStatistics generated) => FrechetDistance.Compute(real, generated);
}
