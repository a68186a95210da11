using BlurVae.Tests.Perceptual;
using BlurVae.Training.Perceptual;
using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// The VGG loss and LPIPS-Alex against float64 finite differences on narrowed random-weight networks (every
/// convolution 1/16 as wide: the same layers, pools and taps), grey inputs (repeated to RGB on the way in); and the
/// unit normalisation's gradient at an all-zero feature vector, where PyTorch's formula would give NaN.
/// </summary>
[TestFixture, Category("GradCheck")]
public class PerceptualGradTests
{
    private static Tensor Images(int seed, params int[] shape) => Tensor.Uniform(shape, -1, 1, new Random(seed), DType.Float64);

    [Test]
    public void VggLossGradient()
    {
        var network = PerceptualWeightsFile.Network("vgg", 3, DType.Float64);
        var loss = new VggPerceptualLoss(new Lpips(network, PerceptualWeightsFile.Heads(network, 4)));
        var target = Images(5, 2, 1, 16, 16);
        AssertGradients(x => loss.Compute(target, x[0]), Images(6, 2, 1, 16, 16));
    }

    [Test]
    public void LpipsAlexGradientInBothImages()
    {
        var network = PerceptualWeightsFile.Network("alex", 7, DType.Float64);
        var lpips = new Lpips(network, PerceptualWeightsFile.Heads(network, 8));
        AssertGradients(x => lpips.Distance(x[0], x[1]), Images(9, 1, 1, 35, 33), Images(10, 1, 1, 35, 33));
    }

    [Test]
    public void UnitNormalizeHasAFiniteGradientAtAZeroFeatureVector()
    {
        var values = Images(11, 1, 4, 2, 3).ToDoubleArray();
        for (int c = 0; c < 4; c++) values[c * 6 + 4] = 0; // pixel (1, 1): every channel 0, as when all ReLUs are off
        var f = Tensor.FromArray(values, [1, 4, 2, 3], DType.Float64);
        f.RequiresGrad = true;
        var y = Lpips.UnitNormalize(f).Keep();
        (y * Tensor.Randn([1, 4, 2, 3], new Random(12), DType.Float64)).Sum().Backward();
        Assert.That(f.Grad!.ToDoubleArray(), Has.All.Matches<double>(double.IsFinite));
        Assert.That(y.ToDoubleArray().Where((_, i) => i % 6 == 4), Has.All.EqualTo(0.0));
        // Elsewhere the vectors have unit length.
        var v = y.ToDoubleArray();
        double norm = Math.Sqrt(Enumerable.Range(0, 4).Sum(c => v[c * 6] * v[c * 6]));
        Assert.That(norm, Is.EqualTo(1.0).Within(1e-9));
    }
}
