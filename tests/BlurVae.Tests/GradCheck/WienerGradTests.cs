using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

// Finite-difference checks of the fused loss Functions on their own, in float64: every input, odd and even widths
// (the self-conjugate column exists only for even W), one and three channels, batch 3 (the per-image outputs are
// contracted with distinct weights, so a gradient sent to the wrong image shows), ks = 1 and a kernel filling the grid.
[TestFixture, Category("GradCheck")]
public class WienerGradTests
{
    [TestCase(1, 1, 1), TestCase(3, 5, 7), TestCase(5, 8, 6), TestCase(7, 7, 7)]
    public void BlurKernelToOtf(int ks, int h, int w) => AssertGradients(t => BlurKernelToOtfFunction.Forward(t[0], h, w), Randn(ks, 3, ks, ks));

    [TestCase(1, 5, 7, 0.025), TestCase(3, 6, 8, 0.025), TestCase(2, 4, 5, 0.3), TestCase(1, 1, 1, 0.1)]
    public void WienerWeight(int c, int h, int w, double constant)
    {
        int wh = w / 2 + 1;
        AssertGradients(t => WienerWeightFunction.Forward(t[0], t[1], w, constant), Randn(20 + c, 3, h, wh, 2), Randn(30 + h, 3, c, h, wh, 2));
    }

    [Test]
    public void WienerWeightWithRespectToTheErrorAlone()
    {
        // The kernel spectrum as a constant: only ∂e is asked for.
        var fk = Randn(40, 3, 5, 4, 2);
        AssertGradients(t => WienerWeightFunction.Forward(fk, t[0], 7, 0.05), Randn(41, 3, 2, 5, 4, 2));
    }

    [TestCase(1, 5, 7), TestCase(3, 6, 8), TestCase(2, 4, 5), TestCase(1, 1, 1)]
    public void BlurKernelFit(int c, int h, int w)
    {
        int wh = w / 2 + 1;
        AssertGradients(t => BlurKernelFitFunction.Forward(t[0], t[1], t[2], w),
            Randn(50 + c, 3, c, h, wh, 2), Randn(60 + h, 3, c, h, wh, 2), Randn(70 + w, 3, h, wh, 2));
    }

    [Test]
    public void BlurKernelFitWithRespectToTheKernelSpectrumAlone()
    {
        // The trainer's case: x and x̂ detached, only ∂F_k.
        var x = Randn(80, 3, 2, 5, 4, 2);
        var xHat = Randn(81, 3, 2, 5, 4, 2);
        AssertGradients(t => BlurKernelFitFunction.Forward(x, xHat, t[0], 6), Randn(82, 3, 5, 4, 2));
    }

    [Test]
    public void ShapeMismatchesAreNamed()
    {
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 2, 5, 4, 2), Randn(2, 2, 1, 5, 3, 2), 7, 0.1),
            Throws.ArgumentException.With.Message.Contains("half spectrum [N, C, H, 4, 2] of width 7"));
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 3, 5, 4, 2), Randn(2, 2, 1, 5, 4, 2), 7, 0.1),
            Throws.ArgumentException.With.Message.Contains("kernel spectrum must be [2, 5, 4, 2]"));
        Assert.That(() => WienerWeightFunction.Forward(Randn(1, 2, 5, 4, 2), Randn(2, 2, 1, 5, 4, 2), 7, -1),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Wiener constant"));
        Assert.That(() => BlurKernelFitFunction.Forward(Randn(1, 2, 1, 5, 4, 2), Randn(2, 2, 2, 5, 4, 2), Randn(3, 2, 5, 4, 2), 7),
            Throws.ArgumentException.With.Message.Contains("xHat"));
        Assert.That(() => BlurKernelToOtfFunction.Forward(Randn(1, 2, 4, 4), 8, 8), Throws.ArgumentException.With.Message.Contains("odd"));
        Assert.That(() => BlurKernelToOtfFunction.Forward(Randn(1, 2, 5, 5), 4, 8), Throws.ArgumentException.With.Message.Contains("does not fit"));
    }
}
