using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Perceptual;

/// <summary>
/// torchvision's VGG16 `features` (13 3×3 convolutions with ReLU, 5 max-pools 2/2). <see cref="FeatureNetwork.Taps"/>
/// returns relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (outputs of layers 3, 8, 15, 22, 29): LPIPS-VGG's taps and the
/// VGG loss's.
/// </summary>
public sealed class Vgg16Features : FeatureNetwork
{
    /// <summary>Output channels per convolution; 0 marks a max-pool (torchvision's configuration "D").</summary>
    private static readonly int[] Configuration = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    public static readonly int[] TapIndices = [3, 8, 15, 22, 29];

    public Vgg16Features(Random rng, DType dtype = DType.Float32, IBackend? backend = null, int widthDivisor = 1)
        : base("VGG16", Build(rng, dtype, backend, widthDivisor), TapIndices, dtype, backend)
    {
    }

    private static List<Module> Build(Random rng, DType dtype, IBackend? backend, int widthDivisor)
    {
        var layers = new List<Module>();
        int channels = 3;
        foreach (int c in Configuration)
        {
            if (c == 0)
            {
                layers.Add(new MaxPool2d(2, 2));
                continue;
            }
            int width = Narrowed(c, widthDivisor);
            layers.Add(new Conv2d(channels, width, 3, rng, padding: 1, dtype: dtype, backend: backend));
            layers.Add(new ReLU());
            channels = width;
        }
        return layers;
    }
}
