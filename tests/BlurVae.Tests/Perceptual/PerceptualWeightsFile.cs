using BlurVae.Training.Perceptual;

namespace BlurVae.Tests.Perceptual;

/// <summary>LPIPS weights files for tests: a narrowed random-weight network and random heads, as export-weights.py lays them out.</summary>
internal static class PerceptualWeightsFile
{
    public const int WidthDivisor = 16;

    public static FeatureNetwork Network(string variant, int seed, DType dtype = DType.Float32, IBackend? backend = null) =>
        variant == "alex" ? new AlexNetFeatures(new Random(seed), dtype, backend, WidthDivisor) : new Vgg16Features(new Random(seed), dtype, backend, WidthDivisor);

    /// <summary>Uniform [0, 1) heads, one per tap channel, multiplied by <paramref name="sign"/>.</summary>
    public static List<double[]> Heads(FeatureNetwork network, int seed, double sign = 1)
    {
        var rng = new Random(seed);
        return network.TapChannels.Select(c => Enumerable.Range(0, c).Select(_ => sign * rng.NextDouble()).ToArray()).ToList();
    }

    /// <summary>Writes the file; <paramref name="heads"/> = 0 leaves the heads out, a negative <paramref name="sign"/> makes them negative.</summary>
    public static string Write(string path, string variant, int seed = 1, int heads = 5, double sign = 1)
    {
        var network = Network(variant, seed);
        var tensors = network.NamedParameters().ToList();
        var values = Heads(network, seed + 1, sign);
        for (int l = 0; l < heads; l++)
            tensors.Add(($"lin{l}.weight", Tensor.FromArray(values[l], [1, values[l].Length, 1, 1])));
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["network"] = $"lpips-{variant}" });
        return path;
    }
}
