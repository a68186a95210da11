
namespace BlurVae.Tests.Cpu;

/// <summary>Forward values of the im2col convolutions against the naive definitions, float64 and float32.</summary>
[TestFixture, Category("Cpu")]
public class ConvForwardTests
{
    [TestCase(3, 5, 7, 6, 4, 3, 1, 0), TestCase(3, 5, 7, 6, 4, 3, 2, 1), TestCase(1, 3, 9, 9, 8, 3, 2, 1), TestCase(2, 1, 5, 5, 3, 5, 1, 2), TestCase(3, 16, 4, 4, 32, 3, 2, 1)]
    public void Conv2dMatchesDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad)
    {
        var rng = new Random(n * 100 + cin);
        var x = Tensor.Randn([n, cin, h, w], rng, DType.Float64);
        var wt = Tensor.Randn([cout, cin, k, k], rng, DType.Float64);
        var b = Tensor.Randn([cout], rng, DType.Float64);
        var expected = Reference.Conv2d(x.ToDoubleArray(), wt.ToDoubleArray(), b.ToDoubleArray(), n, cin, h, w, cout, k, k, stride, pad, out int oh, out int ow);
        var y = Functional.Conv2d(x, wt, b, stride, pad);
        Assert.That(y.Shape, Is.EqualTo(new[] { n, cout, oh, ow }));
        Reference.AssertClose(y.ToDoubleArray(), expected, 1e-12, 1e-12, "conv2d float64");
        var y32 = Functional.Conv2d(x.To(DType.Float32), wt.To(DType.Float32), b.To(DType.Float32), stride, pad);
        Reference.AssertClose(y32.ToDoubleArray(), expected, 1e-4, 1e-4, "conv2d float32");
    }

    [TestCase(3, 5, 3, 4, 2, 4, 2, 1, 0), TestCase(1, 4, 5, 5, 3, 3, 2, 1, 1), TestCase(2, 3, 4, 3, 6, 3, 1, 0, 0), TestCase(3, 7, 2, 2, 5, 4, 2, 1, 0)]
    public void ConvTranspose2dMatchesDefinition(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int outPad)
    {
        var rng = new Random(n * 31 + cin);
        var x = Tensor.Randn([n, cin, h, w], rng, DType.Float64);
        var wt = Tensor.Randn([cin, cout, k, k], rng, DType.Float64);
        var b = Tensor.Randn([cout], rng, DType.Float64);
        var expected = Reference.ConvTranspose2d(x.ToDoubleArray(), wt.ToDoubleArray(), b.ToDoubleArray(), n, cin, h, w, cout, k, stride, pad, outPad, out int oh, out int ow);
        var y = Functional.ConvTranspose2d(x, wt, b, stride, pad, outPad);
        Assert.That(y.Shape, Is.EqualTo(new[] { n, cout, oh, ow }));
        Reference.AssertClose(y.ToDoubleArray(), expected, 1e-12, 1e-12, "conv-transpose2d float64");
        var y32 = Functional.ConvTranspose2d(x.To(DType.Float32), wt.To(DType.Float32), b.To(DType.Float32), stride, pad, outPad);
        Reference.AssertClose(y32.ToDoubleArray(), expected, 1e-4, 1e-4, "conv-transpose2d float32");
    }

    [Test]
    public void OutputPaddingMustBeSmallerThanStride()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Functional.ConvTranspose2d(Tensor.Zeros([1, 2, 3, 3]), Tensor.Zeros([2, 2, 3, 3]), null, stride: 2, padding: 1, outputPadding: 2));
        Assert.That(ex!.ParamName, Is.EqualTo("outputPadding"));
    }
}
