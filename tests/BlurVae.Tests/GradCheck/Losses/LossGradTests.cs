using static BlurVae.Tests.GradCheck.GradChecker;
using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.GradCheck.Losses;

// Finite-difference checks of every loss with respect to the reconstruction and, where it matters, the kernel.
// Sizes are awkward (batch 3, odd and even grids, 1 and 3 channels) but small: each input element costs two forwards.
[TestFixture, Category("GradCheck")]
public class ComplexMulGradTests
{
    [Test] public void SameShape() => AssertGradients(t => ComplexMulFunction.Forward(t[0], t[1]), Randn(1, 3, 5, 2), Randn(2, 3, 5, 2));

    [Test] public void KernelSpectrumBroadcastOverChannels() =>
        AssertGradients(t => ComplexMulFunction.Forward(t[0], t[1]), Randn(3, 3, 2, 4, 3, 2), Randn(4, 3, 1, 4, 3, 2));

    [Test] public void BroadcastFirstOperandOfLowerRank() =>
        AssertGradients(t => ComplexMulFunction.Forward(t[0], t[1]), Randn(5, 4, 2), Randn(6, 3, 4, 2));

    [Test]
    public void MatchesComplexArithmetic()
    {
        var y = ComplexMulFunction.Forward(Tensor.FromArray([1.0, 2.0, -0.5, 3.0], [2, 2]), Tensor.FromArray([3.0, -1.0], [2])).ToDoubleArray();
        Assert.That(y, Is.EqualTo(new[] { 5.0, 5.0, 1.5, 9.5 }));   // (1+2i)(3−i) = 5+5i, (−0.5+3i)(3−i) = 1.5+9.5i
        Assert.That(() => ComplexMulFunction.Forward(Randn(1, 3, 3), Randn(1, 3, 2)), Throws.ArgumentException.With.Message.Contains("trailing axis of 2"));
    }
}

[TestFixture, Category("GradCheck")]
public class KernelLossGradTests
{
    [TestCase(3, 7, 9), TestCase(5, 8, 8), TestCase(5, 5, 6)]
    public void BlurKernelOtf(int ks, int h, int w) => AssertGradients(t => Training.Losses.BlurKernelOtf.Compute(t[0], h, w), Randn(ks, 3, ks, ks));

    [TestCase(1, 7, 9, 3, 0.025), TestCase(3, 8, 8, 5, 0.025), TestCase(3, 7, 9, 5, 0.3)]
    public void WienerWithRespectToReconstructionAndKernel(int c, int h, int w, int ks, double constant)
    {
        var x = Uniform(1, -1, 1, 3, c, h, w);
        AssertGradients(t => WienerBlurLoss.Compute(x, t[0], t[1], constant), Uniform(2, -1, 1, 3, c, h, w), Uniform(3, 0, 1, 3, ks, ks));
    }

    [Test]
    public void WienerWithRespectToTarget() =>
        AssertGradients(t => WienerBlurLoss.Compute(t[0], t[1], Gaussian(3, 0.7, 1.1, 1.6)), Uniform(4, -1, 1, 3, 1, 6, 7), Uniform(5, -1, 1, 3, 1, 6, 7));

    [TestCase(3, 7, 9, 3, 0.5), TestCase(1, 8, 8, 5, 0.1), TestCase(2, 6, 5, 5, 1.0)]
    public void LogDeterminantWithRespectToKernel(int channels, int h, int w, int ks, double eps) =>
        AssertGradients(t => LogDeterminant.Compute(t[0], channels, h, w, eps), Uniform(6 + ks, 0, 1, 3, ks, ks));

    [TestCase(3, 7, 9, 3, 0.025), TestCase(1, 8, 8, 5, 0.1)]
    public void ExactLogDeterminantWithRespectToKernel(int channels, int h, int w, int ks, double c) =>
        AssertGradients(t => LogDeterminant.ComputeExact(t[0], channels, h, w, c), Uniform(8 + ks, 0, 1, 3, ks, ks));

    [TestCase(1, 7, 9, 3), TestCase(3, 8, 8, 5)]
    public void BlurKernelFitWithRespectToKernelAndReconstruction(int c, int h, int w, int ks)
    {
        var x = Uniform(10, -1, 1, 3, c, h, w);
        AssertGradients(t => BlurKernelFitLoss.Compute(x, t[0], t[1]), Uniform(11, -1, 1, 3, c, h, w), Uniform(12, 0, 1, 3, ks, ks));
    }

    [Test]
    public void BlurKernelFitWithRespectToTarget()
    {
        var kernel = Uniform(13, 0, 1, 3, 3, 3);
        AssertGradients(t => BlurKernelFitLoss.Compute(t[0], t[1], kernel), Uniform(14, -1, 1, 3, 1, 5, 6), Uniform(15, -1, 1, 3, 1, 5, 6));
    }
}

[TestFixture, Category("GradCheck")]
public class BaselineLossGradTests
{
    [TestCase(1, 7, 9), TestCase(3, 4, 4)]
    public void L2(int c, int h, int w) => AssertGradients(t => L2Loss.Compute(t[0], t[1]), Uniform(1, -1, 1, 3, c, h, w), Uniform(2, -1, 1, 3, c, h, w));

    [TestCase(1, 7, 9), TestCase(3, 4, 4)]
    public void L1(int c, int h, int w)
    {
        // x̂ = x + δ with |δ| ≥ 0.1, so no finite difference straddles the kink of |·|.
        var x = Uniform(3, -1, 1, 3, c, h, w);
        var xHat = x + RandnAwayFromZero(4, 0.1, 3, c, h, w) * 0.2;
        AssertGradients(t => L1Loss.Compute(x, t[0]), xHat.Detach());
    }

    [TestCase(1, 7, 9), TestCase(3, 4, 4)]
    public void Bce(int c, int h, int w) =>
        // Predictions inside (−0.9, 0.9), away from the clamp at ±(1 − 2e-7).
        AssertGradients(t => BceLoss.Compute(t[0], t[1]), Uniform(5, -1, 1, 3, c, h, w), Uniform(6, -0.9, 0.9, 3, c, h, w));

    [Test]
    public void KlDivergence() => AssertGradients(t => Training.Losses.KlDivergence.Compute(t[0], t[1]), Uniform(7, -2, 2, 3, 7), Uniform(8, -3, 1, 3, 7));

    [TestCase(1, 7, 9), TestCase(3, 4, 6)]
    public void FocalFrequencyWithAGivenMatrix(int c, int h, int w)
    {
        // The online weight is detached (finite differences would see it move), so the exact check uses a fixed
        // matrix, as the reference's `matrix` argument; FocalFrequencyLossTests checks the online gradient in closed form.
        var matrix = Uniform(9, 0, 1, 3, c, h, w);
        AssertGradients(t => FocalFrequencyLoss.Compute(t[0], t[1], matrix: matrix), Uniform(10, -1, 1, 3, c, h, w), Uniform(11, -1, 1, 3, c, h, w));
    }
}
