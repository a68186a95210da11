using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// The ResizeBilinear op (and architecture B's UpsampleBilinear2x module over it): gradients when enlarging, shrinking,
/// at exactly 2× and from one pixel, and PyTorch's source-index rule by hand.
/// </summary>
[TestFixture, Category("GradCheck")]
public class ResizeGradTests
{
    // From 5×7: down, up, both, and the 2× upsampling; a Tanh after the op makes the gradient position-dependent.
    [TestCase(9, 4), TestCase(2, 3), TestCase(17, 11), TestCase(5, 7), TestCase(10, 14)]
    public void ResizeBilinear(int outH, int outW) => AssertGradients(x => x[0].ResizeBilinear(outH, outW).Tanh(), Randn(15, 2, 3, 5, 7));

    [TestCase(3, 2), TestCase(2, 2)]
    public void ResizeBilinearFromOnePixel(int outH, int outW) => AssertGradients(x => x[0].ResizeBilinear(outH, outW), Randn(16, 2, 2, 1, 1));

    [Test] public void UpsampleBilinear2xModule() => AssertGradients(x => new UpsampleBilinear2x().Forward(x[0]), Randn(3, 3, 5, 3, 4));

    [Test]
    public void ResizeMatchesPyTorchsSourceIndexRule()
    {
        // F.interpolate(torch.tensor([[[[1., 2., 4.]]]]), size=(1, 5), mode="bilinear", align_corners=False)
        // = [1.0, 1.4, 2.0, 3.2, 4.0]: src = (o + ½)·3/5 − ½ = −0.2 (clamped to 0), 0.4, 1.0, 1.6, 2.2 (last pixel).
        var x = Tensor.FromArray(new double[] { 1, 2, 4 }, [1, 1, 1, 3], BlurVae.Kernels.DType.Float64);
        Assert.That(x.ResizeBilinear(1, 5).ToDoubleArray(), Is.EqualTo(new[] { 1.0, 1.4, 2.0, 3.2, 4.0 }).Within(1e-12));
    }
}
