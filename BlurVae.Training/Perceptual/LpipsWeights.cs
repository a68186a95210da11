namespace BlurVae.Training.Perceptual;

/// <summary>
/// An LPIPS weights file: safetensors with the network's `features.*` (torchvision's names) and the linear heads
/// lin0.weight … lin4.weight ([1, C, 1, 1], non-negative, the lpips package's lin{l}.model.1.weight), as
/// tools/export-weights.py writes them (lpips-alex, lpips-vgg, deeploss-vgg). The variant is read from the shape of
/// features.0.weight (11×11: AlexNet, 3×3: VGG16), the width from its channels (64; fewer in the tests' narrowed
/// networks, see <see cref="FeatureNetwork"/>). Every problem is an error naming the flag, the file and the fix.
/// </summary>
public static class LpipsWeights
{
    public static Lpips Load(string path, string flag, DType dtype = DType.Float32, IBackend? backend = null, string? requiredVariant = null)
    {
        string export = requiredVariant == "vgg" ? "lpips-vgg (or deeploss-vgg)" : "lpips-alex (or lpips-vgg)";
        string fix = $"write the file with `python3 tools/export-weights.py {export} FILE` where torchvision and the lpips package are installed, and pass it as {flag} FILE";
        if (!File.Exists(path)) throw new FileNotFoundException($"{flag}: the weights file '{path}' does not exist; {fix}.", path);
        InvalidDataException Bad(string problem) => new($"{flag} '{path}' {problem}; {fix}.");
        Dictionary<string, SafeTensors.Entry> tensors;
        try
        {
            tensors = SafeTensors.Read(path).Tensors;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{flag}: {e.Message} ({fix}).", e);
        }
        if (!tensors.TryGetValue("features.0.weight", out var first))
            throw Bad("has no tensor 'features.0.weight', so it holds neither AlexNet nor VGG16 features");
        string variant = first.Shape is [_, 3, 11, 11] ? "alex" : first.Shape is [_, 3, 3, 3] ? "vgg"
            : throw Bad($"has features.0.weight of shape {Tensor.ShapeString(first.Shape)}, neither AlexNet's [64, 3, 11, 11] nor VGG16's [64, 3, 3, 3]");
        if (requiredVariant is not null && variant != requiredVariant)
            throw Bad($"holds {(variant == "alex" ? "AlexNet" : "VGG16")} features, but {flag} needs {(requiredVariant == "alex" ? "AlexNet" : "VGG16")}'s");
        foreach (var (name, entry) in tensors)
            if (entry.Values.Any(v => !double.IsFinite(v))) throw Bad($"has non-finite values in '{name}'");
        // The first convolution's width sets the others' (64 in the real networks; narrower in test networks).
        int firstWidth = first.Shape[0];
        if (firstWidth < 1 || 64 % firstWidth != 0) throw Bad($"has {firstWidth} channels in features.0.weight; the networks have 64");
        FeatureNetwork network = variant == "alex"
            ? new AlexNetFeatures(new Random(0), dtype, backend, widthDivisor: 64 / firstWidth)
            : new Vgg16Features(new Random(0), dtype, backend, widthDivisor: 64 / firstWidth);
        network.Load(tensors, $"{flag} '{path}'", fix + ".");
        var heads = new List<double[]>();
        for (int l = 0; l < network.TapChannels.Count; l++)
        {
            string name = $"lin{l}.weight";
            int channels = network.TapChannels[l];
            if (!tensors.TryGetValue(name, out var head))
                throw Bad($"has no LPIPS head '{name}' (the network's features alone are not enough: LPIPS needs the learned heads lin0 … lin{network.TapChannels.Count - 1})");
            if (!head.Shape.AsSpan().SequenceEqual([1, channels, 1, 1]))
                throw Bad($"has head '{name}' of shape {Tensor.ShapeString(head.Shape)}; {network.Name}'s tap {l} needs [1, {channels}, 1, 1]");
            if (head.Values.Any(v => v < 0))
                throw Bad($"has negative weights in head '{name}' (LPIPS's heads are non-negative: the lpips package clamps them at 0)");
            heads.Add(head.Values);
        }
        return new Lpips(network, heads);
    }
}
