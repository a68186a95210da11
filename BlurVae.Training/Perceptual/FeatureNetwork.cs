using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Perceptual;

/// <summary>
/// A torchvision `features` stack (convolutions, ReLUs, max-pools) under torchvision's parameter names
/// (features.0.weight …), whose ReLU outputs at <see cref="TapLayers"/> are what LPIPS and the VGG loss compare.
/// Inputs are already normalised (<see cref="PerceptualInput"/>). <c>widthDivisor</c> shrinks every convolution's
/// channels for tiny test networks (finite differences, the emulated device); 1 is the real network.
/// </summary>
public abstract class FeatureNetwork : Module
{
    private readonly Sequential _features;

    protected FeatureNetwork(string name, List<Module> layers, int[] tapLayers, DType dtype, IBackend? backend)
    {
        Name = name;
        _features = RegisterModule("features", new Sequential(layers.ToArray()));
        TapLayers = tapLayers;
        // The channels of a tap are those of the last convolution before it.
        TapChannels = tapLayers.Select(t => layers.Take(t + 1).OfType<Conv2d>().Last().Weight.Shape[0]).ToArray();
        DType = dtype;
        Backend = backend ?? Tensor.DefaultBackend;
    }

    /// <summary>"VGG16", "AlexNet": for messages.</summary>
    public string Name { get; }
    /// <summary>Indices in `features` of the ReLUs whose outputs <see cref="Taps"/> returns.</summary>
    public IReadOnlyList<int> TapLayers { get; }
    /// <summary>The channel count of each tap.</summary>
    public IReadOnlyList<int> TapChannels { get; }
    public DType DType { get; }
    public IBackend Backend { get; }
    public IReadOnlyList<Module> Layers => _features.Layers;

    /// <summary>The activations at <see cref="TapLayers"/> of normalised images [N, 3, H, W] (later layers are not run).</summary>
    public List<Tensor> Taps(Tensor input)
    {
        var taps = new List<Tensor>();
        for (int i = 0; i <= TapLayers[^1]; i++)
        {
            input = _features.Layers[i].Forward(input);
            if (TapLayers.Contains(i)) taps.Add(input);
        }
        return taps;
    }

    /// <summary>The whole `features` stack on normalised images.</summary>
    public override Tensor Forward(Tensor input) => _features.Forward(input);

    /// <summary>Loads `features.*` from a safetensors file (torchvision's names, e.g. written by tools/export-weights.py).</summary>
    public void Load(string path)
    {
        var (tensors, _) = SafeTensors.Read(path);
        Load(tensors, $"{Name} weights '{path}'", "write it with tools/export-weights.py.");
    }

    public void Load(IReadOnlyDictionary<string, SafeTensors.Entry> tensors, string source, string fix) =>
        NamedTensors.Restore(NamedParameters(), tensors, source, fix);

    /// <summary>Channels of a convolution divided for a test network, at least 1.</summary>
    protected static int Narrowed(int channels, int widthDivisor) =>
        widthDivisor >= 1 ? Math.Max(1, channels / widthDivisor) : throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, "widthDivisor must be at least 1.");
}
