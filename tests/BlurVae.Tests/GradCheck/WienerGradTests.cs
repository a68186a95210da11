using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

// Finite-difference checks of the fused loss Functions on their own, in float64: every input, odd and even widths
// (the self-conjugate column exists only for even W), one and three channels, batch 3 (every input element is
// differenced, so a gradient sent to the wrong image shows), a batch scale that is not 1/N (the backward must apply
// the forward's scale itself), ks = 1 and a kernel filling the grid.
[TestFixture, Category("GradCheck")]
public class WienerGradTests
{
    [TestCase(1, 1, 1), TestCase(3, 5, 7), TestCase(5, 8, 6), TestCase(7, 7, 7)]
    public void BlurKernelToOtf(int ks, int h, int w) => AssertGradients(t => BlurKernelToOtfFunction.Forward(t[0], h, w), Randn(ks, 3, ks, ks));

    [TestCase(1, 5, 7, 0.025), TestCase(3, 6, 8, 0.025), TestCase(2, 4, 5, 0.3), TestCase(1, 1, 1, 0.1)]
    public void WienerWeight(int c, int h, int w, double constant)
    {
        int wh = w / 2 + 1;
        AssertGradients(t => WienerWeightFunction.Forward(t[0], t[1], w, constant, Scale), Randn(20 + c, 3, h, wh, 2), Randn(30 + h, 3, c, h, wh, 2));
    }

    private const double Scale = 0.37;

    [Test]
    public void TheBatchLossIsTheScaledSumOfThePerImageValues()
    {
        Tensor fk = Randn(90, 3, 5, 4, 2), e = Randn(91, 3, 2, 5, 4, 2), x = Randn(92, 3, 2, 5, 4, 2), xHat = Randn(93, 3, 2, 5, 4, 2);
        var perImage = Tensor.Empty([3], DType.Float64);
        double loss = WienerWeightFunction.Forward(fk, e, 7, 0.05, Scale, perImage).Item();
        var values = perImage.ToDoubleArray();
        Assert.That(loss, Is.EqualTo(Scale * values.Sum()).Within(1e-12 * Math.Abs(loss)));
        // Each image's value is the loss of its one-image batch at scale 1.
        for (int i = 0; i < 3; i++)
            Assert.That(values[i], Is.EqualTo(WienerWeightFunction.Forward(fk.Narrow(0, i, 1), e.Narrow(0, i, 1), 7, 0.05, 1.0).Item()).Within(1e-12 * Math.Abs(values[i])));
        double fit = BlurKernelFitFunction.Forward(x, xHat, fk, 7, Scale).Item();
        double fitSum = Enumerable.Range(0, 3).Sum(i => BlurKernelFitFunction.Forward(x.Narrow(0, i, 1), xHat.Narrow(0, i, 1), fk.Narrow(0, i, 1), 7, 1.0).Item());
        Assert.That(fit, Is.EqualTo(Scale * fitSum).Within(1e-12 * Math.Abs(fit)));
        Assert.That(() => WienerWeightFunction.Forward(fk, e, 7, 0.05, Scale, Tensor.Empty([2], DType.Float64)),
            Throws.ArgumentException.With.Message.Contains("[3]"));
    }

    [Test]
    public void WienerWeightWithRespectToTheErrorAlone()
    {
        // The kernel spectrum as a constant: only ∂e is asked for.
        var fk = Randn(40, 3, 5, 4, 2);
        AssertGradients(t => WienerWeightFunction.Forward(fk, t[0], 7, 0.05, Scale), Randn(41, 3, 2, 5, 4, 2));
    }

    [TestCase(1, 5, 7), TestCase(3, 6, 8), TestCase(2, 4, 5), TestCase(1, 1, 1)]
    public void BlurKernelFit(int c, int h, int w)
    {
        int wh = w / 2 + 1;
        AssertGradients(t => BlurKernelFitFunction.Forward(t[0], t[1], t[2], w, Scale),
            Randn(50 + c, 3, c, h, wh, 2), Randn(60 + h, 3, c, h, wh, 2), Randn(70 + w, 3, h, wh, 2));
    }

    [Test]
    public void BlurKernelFitWithRespectToTheKernelSpectrumAlone()
    {
        // The trainer's case: x and x̂ detached, only ∂F_k.
        var x = Randn(80, 3, 2, 5, 4, 2);
        var xHat = Randn(81, 3, 2, 5, 4, 2);
        AssertGradients(t => BlurKernelFitFunction.Forward(x, xHat, t[0], 6, Scale), Randn(82, 3, 5, 4, 2));
    }

    [Test]
    public void ShapeMismatchesAreNamed()
    {
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 2, 5, 4, 2), Randn(2, 2, 1, 5, 3, 2), 7, 0.1, 0.5),
            Throws.ArgumentException.With.Message.Contains("half spectrum [N, C, H, 4, 2] of width 7"));
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 3, 5, 4, 2), Randn(2, 2, 1, 5, 4, 2), 7, 0.1, 0.5),
            Throws.ArgumentException.With.Message.Contains("kernel spectrum must be [2, 5, 4, 2]"));
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 2, 5, 4, 2), Randn(2, 2, 1, 5, 4, 2), 7, -1, 0.5),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Wiener constant"));
        Assert.That(() => BlurKernelFitFunction.Forward(Randn(1, 2, 1, 5, 4, 2), Randn(2, 2, 2, 5, 4, 2), Randn(3, 2, 5, 4, 2), 7, 0.5),
            Throws.ArgumentException.With.Message.Contains("xHat"));
        Assert.That(() => BlurKernelToOtfFunction.Forward(Randn(1, 2, 4, 4), 8, 8), Throws.ArgumentException.With.Message.Contains("odd"));
        Assert.That(() => BlurKernelToOtfFunction.Forward(Randn(1, 2, 5, 5), 4, 8), Throws.ArgumentException.With.Message.Contains("does not fit"));
    }
}
