using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Perceptual;

/// <summary>
/// torchvision's AlexNet `features`: conv 11×11 stride 4 padding 2 (64), ReLU, max-pool 3/2, conv 5×5 padding 2
/// (192), ReLU, max-pool 3/2, three 3×3 convolutions with padding 1 (384, 256, 256) each with ReLU, max-pool 3/2.
/// <see cref="FeatureNetwork.Taps"/> returns the five ReLU outputs (layers 1, 4, 7, 9, 11), LPIPS-Alex's taps.
/// Images need a side of at least 31 pixels (the second max-pool needs 3×3 pixels).
/// </summary>
public sealed class AlexNetFeatures : FeatureNetwork
{
    public static readonly int[] TapIndices = [1, 4, 7, 9, 11];

    /// <summary>The smallest image side the taps exist for.</summary>
    public const int MinimumSide = 31;

    public AlexNetFeatures(Random rng, DType dtype = DType.Float32, IBackend? backend = null, int widthDivisor = 1)
        : base("AlexNet", Build(rng, dtype, backend, widthDivisor), TapIndices, dtype, backend)
    {
    }

    private static List<Module> Build(Random rng, DType dtype, IBackend? backend, int widthDivisor)
    {
        int c1 = Narrowed(64, widthDivisor), c2 = Narrowed(192, widthDivisor), c3 = Narrowed(384, widthDivisor), c4 = Narrowed(256, widthDivisor);
        Conv2d Conv(int inC, int outC, int k, int stride, int padding) => new(inC, outC, k, rng, stride: stride, padding: padding, dtype: dtype, backend: backend);
        return
        [
            Conv(3, c1, 11, 4, 2), new ReLU(), new MaxPool2d(3, 2),
            Conv(c1, c2, 5, 1, 2), new ReLU(), new MaxPool2d(3, 2),
            Conv(c2, c3, 3, 1, 1), new ReLU(),
            Conv(c3, c4, 3, 1, 1), new ReLU(),
            Conv(c4, c4, 3, 1, 1), new ReLU(), new MaxPool2d(3, 2),
        ];
    }
}
