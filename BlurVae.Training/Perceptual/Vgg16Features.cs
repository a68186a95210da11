using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Perceptual;

/// <summary>
/// torchvision's VGG16 `features` (13 3×3 convolutions with ReLU, 5 max-pools) with its parameter names
/// (features.0.weight …), on images in [−1, 1] mapped to [0, 1] and normalised with ImageNet's mean and std, as the
/// perceptual losses and LPIPS feed it. <see cref="Taps"/> returns the activations LPIPS and the VGG loss compare:
/// relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (outputs of layers 3, 8, 15, 22, 29).
/// </summary>
public sealed class Vgg16Features : Module
{
    /// <summary>Output channels per convolution; 0 marks a max-pool (torchvision's configuration "D").</summary>
    private static readonly int[] Configuration = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    /// <summary>Indices in `features` of the ReLUs whose outputs <see cref="Taps"/> returns.</summary>
    public static readonly int[] TapLayers = [3, 8, 15, 22, 29];

    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406], ImageNetStd = [0.229, 0.224, 0.225];

    private readonly Sequential _features;

    public Vgg16Features(Random rng, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var layers = new List<Module>();
        int channels = 3;
        foreach (int c in Configuration)
        {
            if (c == 0)
            {
                layers.Add(new MaxPool2x2());
                continue;
            }
            layers.Add(new Conv2d(channels, c, 3, rng, padding: 1, dtype: dtype, backend: backend));
            layers.Add(new ReLU());
            channels = c;
        }
        _features = RegisterModule("features", new Sequential(layers.ToArray()));
        DType = dtype;
        Backend = backend ?? Tensor.DefaultBackend;
    }

    public DType DType { get; }
    public IBackend Backend { get; }

    /// <summary>[N, 3, H, W] in [−1, 1] → ((x + 1)/2 − mean)/std per channel; grey images are repeated to three channels.</summary>
    public Tensor Normalize(Tensor x)
    {
        if (x.Rank != 4 || (x.Shape[1] != 1 && x.Shape[1] != 3))
            throw new ArgumentException($"VGG16 takes images [N, 1 or 3, H, W] (got {Tensor.ShapeString(x.Shape)}).");
        if (x.Shape[1] == 1) x = Tensor.Concat([x, x, x], axis: 1);
        var scale = Tensor.FromArray(ImageNetStd.Select(s => 0.5 / s).ToArray(), [1, 3, 1, 1], x.DType, x.Backend);
        var shift = Tensor.FromArray(ImageNetMean.Zip(ImageNetStd, (m, s) => (0.5 - m) / s).ToArray(), [1, 3, 1, 1], x.DType, x.Backend);
        return x * scale + shift;
    }

    /// <summary>The activations at <see cref="TapLayers"/> of normalised images.</summary>
    public List<Tensor> Taps(Tensor x)
    {
        var taps = new List<Tensor>();
        x = Normalize(x);
        for (int i = 0; i <= TapLayers[^1]; i++)
        {
            x = _features.Layers[i].Forward(x);
            if (TapLayers.Contains(i)) taps.Add(x);
        }
        return taps;
    }

    public override Tensor Forward(Tensor x) => _features.Forward(Normalize(x));

    /// <summary>Loads `features.*` from a safetensors file (torchvision's names, e.g. written by tools/export-weights.py).</summary>
    public void Load(string path)
    {
        var (tensors, _) = SafeTensors.Read(path);
        NamedTensors.Restore(NamedParameters(), tensors, $"VGG16 weights '{path}'", "write it with tools/export-weights.py.");
    }
}
