using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>
/// The Conv → BatchNorm statistics fusion (the convolution writes its output's batch statistics, the BatchNorm takes
/// them instead of computing them) against float64 finite differences: the statistics are no differentiable output,
/// and the gradients through conv, BatchNorm (→ LeakyReLU) are those of the plain composition.
/// </summary>
[TestFixture, Category("GradCheck")]
public class ConvBatchNormGradTests
{
    // Encoder block: Conv2d k3 s2 p1 → BatchNorm2d → LeakyReLU(0.2), with the running statistics updated.
    [Test]
    public void Conv2dBatchNormLeakyRelu()
    {
        var (rm, rv) = (Randn(1, 4), Positive(2, 4));
        AssertGradients(x =>
        {
            var stats = Tensor.Empty([4, 2], DType.Float64);
            var y = Conv2dFunction.Forward(x[0], x[1], x[2], 2, 1, stats);
            return Functional.BatchNormLeakyRelu(y, rm, rv, x[3], x[4], training: true, negativeSlope: 0.2, statistics: stats);
        }, Randn(3, 3, 2, 7, 6), Randn(4, 4, 2, 3, 3), Randn(5, 4), Positive(6, 4), Randn(7, 4));
    }

    // Decoder block: ConvTranspose2d k4 s2 p1 (by phases) → BatchNorm2d → LeakyReLU(0.2), no affine.
    [Test]
    public void ConvTranspose2dBatchNormLeakyRelu() =>
        AssertGradients(x =>
        {
            var stats = Tensor.Empty([3, 2], DType.Float64);
            var y = ConvTranspose2dFunction.Forward(x[0], x[1], x[2], 2, 1, 0, stats);
            return Functional.BatchNormLeakyRelu(y, null, null, null, null, training: true, negativeSlope: 0.2, statistics: stats);
        }, Randn(8, 2, 5, 3, 4), Randn(9, 5, 3, 4, 4), Randn(10, 3));

    // A BatchNorm without an activation after it takes the statistics too.
    [Test]
    public void ConvTranspose2dBatchNorm()
    {
        var (rm, rv) = (Randn(11, 3), Positive(12, 3));
        AssertGradients(x =>
        {
            var stats = Tensor.Empty([3, 2], DType.Float64);
            var y = ConvTranspose2dFunction.Forward(x[0], x[1], x[2], 2, 1, 1, stats);
            return Functional.BatchNorm(y, rm, rv, x[3], x[4], training: true, statistics: stats);
        }, Randn(13, 2, 4, 3, 3), Randn(14, 4, 3, 3, 3), Randn(15, 3), Positive(16, 3), Randn(17, 3));
    }

    // The whole Sequential: the fused path's forward equals the layer-by-layer one to float64 rounding, and so do the gradients.
    [Test]
    public void SequentialFusedEqualsLayerByLayer()
    {
        Tensor Run(bool fuse, out double[] grads)
        {
            var rng = new Random(5);
            var net = new Sequential(new Conv2d(3, 6, 3, rng, stride: 2, padding: 1, dtype: DType.Float64), new BatchNorm2d(6, dtype: DType.Float64), new LeakyReLU(0.2),
                                     new ConvTranspose2d(6, 4, 4, rng, stride: 2, padding: 1, dtype: DType.Float64), new BatchNorm2d(4, dtype: DType.Float64))
            { FuseActivations = fuse };
            var x = Randn(18, 3, 3, 8, 6);
            var y = net.Forward(x).Keep();
            (y * Randn(19, y.Shape)).Sum().Backward();
            grads = net.Parameters().SelectMany(p => p.Grad!.ToDoubleArray()).ToArray();
            return y;
        }
        double[] fused = Run(true, out var gFused).ToDoubleArray(), plain = Run(false, out var gPlain).ToDoubleArray();
        Assert.That(fused, Is.EqualTo(plain).Within(1e-12));
        Assert.That(gFused, Is.EqualTo(gPlain).Within(1e-10));
    }
}
