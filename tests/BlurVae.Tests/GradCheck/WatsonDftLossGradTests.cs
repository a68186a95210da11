using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// The whole Watson-DFT loss against finite differences. Inputs are uniform in [−0.8, 0.8], so every block has
/// non-zero coefficients and no amplitude difference or phase sits on a kink. The shifted variant builds a fresh
/// loss with the same seed per evaluation, so every evaluation uses the same shift.
/// </summary>
[TestFixture, Category("GradCheck")]
public class WatsonDftLossGradTests
{
    private static Tensor Image(int seed, params int[] shape) => Tensor.Uniform(shape, -0.8, 0.8, new Random(seed), DType.Float64);

    [Test]
    public void GrayscaleDeterministic()
    {
        var x = Image(1, 2, 1, 16, 16);
        var loss = WatsonDftLoss.Grayscale(randomShift: false);
        AssertGradients(y => loss.Compute(x, y[0]), Image(2, 2, 1, 16, 16));
    }

    [Test]
    public void ColorDeterministic()
    {
        var x = Image(3, 2, 3, 16, 16);
        var loss = WatsonDftLoss.Color(randomShift: false);
        AssertGradients(y => loss.Compute(x, y[0]), Image(4, 2, 3, 16, 16));
    }

    [Test]
    public void GrayscaleShifted()
    {
        var x = Image(5, 2, 1, 16, 16);
        AssertGradients(y => WatsonDftLoss.Grayscale(randomShift: true, seed: 9).Compute(x, y[0]), Image(6, 2, 1, 16, 16));
    }

    [Test]
    public void GrayscaleBothImages() =>
        // The target drives the luminance and contrast masking, so its gradient passes through every branch.
        AssertGradients(t => WatsonDftLoss.Grayscale(randomShift: false).Compute(t[0], t[1]), Image(7, 2, 1, 8, 16), Image(8, 2, 1, 8, 16));

    [Test]
    public void UntrainedColorBothImagesShifted() =>
        AssertGradients(t => WatsonDftLoss.Untrained(grayscale: false, randomShift: true, seed: 3).Compute(t[0], t[1]), Image(9, 1, 3, 8, 8), Image(10, 1, 3, 8, 8));
}
