using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class MiscOpGradTests
{
    [Test] public void SoftmaxRows() => AssertGradients(x => x[0].Softmax(), Randn(1, 3, 5, 7));
    [Test] public void SoftmaxOfKernelLogits() => AssertGradients(x => x[0].Softmax().Reshape(3, 3, 3), Randn(2, 3, 9));
    [Test] public void CastToFloat64AndBack() => AssertGradients(x => x[0].To(BlurVae.Kernels.DType.Float64).Square(), Randn(5, 3, 4));
}

[TestFixture, Category("GradCheck")]
public class FftGradTests
{
    // Even and odd widths and heights, including the 28 of (unpadded) Fashion-MNIST.
    [TestCase(5, 8, FftNorm.Backward), TestCase(6, 7, FftNorm.Ortho), TestCase(4, 4, FftNorm.Forward), TestCase(3, 28, FftNorm.Ortho), TestCase(1, 5, FftNorm.Backward)]
    public void Rfft2(int h, int w, FftNorm norm) => AssertGradients(x => x[0].Rfft2(norm), [Randn(1, 3, h, w)], 1e-7, 1e-5);

    [TestCase(5, 8, FftNorm.Backward), TestCase(6, 7, FftNorm.Ortho), TestCase(4, 4, FftNorm.Forward), TestCase(3, 6, FftNorm.Ortho)]
    public void Irfft2(int h, int w, FftNorm norm) => AssertGradients(x => x[0].Irfft2(w, norm), Randn(2, 3, h, w / 2 + 1, 2));

    [Test]
    public void WeightedSpectrumRoundTrip()
    {
        // The shape of the Wiener loss: spectrum × complex weight (as real pairs), back to pixels, squared.
        var weight = Randn(9, 1, 5, 4, 2);
        AssertGradients(x => (x[0].Rfft2(FftNorm.Ortho) * weight).Irfft2(6, FftNorm.Ortho).Square(), Randn(3, 2, 5, 6));
    }
}
