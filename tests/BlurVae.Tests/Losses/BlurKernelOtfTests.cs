using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class BlurKernelOtfTests
{
    // Odd and even grids, a grid exactly the kernel's size, and the trivial 1×1 kernel.
    [TestCase(3, 7, 9), TestCase(5, 8, 8), TestCase(5, 5, 6), TestCase(1, 4, 3)]
    public void EmbedPlacesTheCentreAtTheOrigin(int ks, int h, int w)
    {
        var k = Uniform(ks, -1, 1, 2, ks, ks);
        var embedded = BlurKernelOtf.Embed(k, h, w);
        Assert.That(embedded.Shape, Is.EqualTo(new[] { 2, h, w }));
        var kv = k.ToDoubleArray();
        var expected = Embed(kv, 0, ks, h, w).Concat(Embed(kv, 1, ks, h, w)).ToArray();
        AssertClose(embedded.ToDoubleArray(), expected, 0, "embedded kernel");
    }

    [TestCase(3, 7, 9), TestCase(5, 8, 8), TestCase(5, 5, 6)]
    public void ComputeIsTheUnnormalisedDftOfTheEmbeddedKernel(int ks, int h, int w)
    {
        var k = Uniform(10 + ks, -1, 1, 3, ks, ks);
        var otf = BlurKernelOtf.Compute(k, h, w);
        int cols = w / 2 + 1;
        Assert.That(otf.Shape, Is.EqualTo(new[] { 3, h, cols, 2 }));
        var actual = otf.ToDoubleArray();
        var kv = k.ToDoubleArray();
        for (int i = 0; i < 3; i++)
        {
            var full = Dft(Embed(kv, i, ks, h, w), h, w);
            for (int u = 0; u < h; u++)
                for (int v = 0; v < cols; v++)
                {
                    int o = ((i * h + u) * cols + v) * 2;
                    Assert.That(actual[o], Is.EqualTo(full[u * w + v].Real).Within(1e-12), $"re F_k[{i}, {u}, {v}]");
                    Assert.That(actual[o + 1], Is.EqualTo(full[u * w + v].Imaginary).Within(1e-12), $"im F_k[{i}, {u}, {v}]");
                }
        }
    }

    [Test]
    public void CentredSymmetricKernelHasARealSpectrumAndDeltaHasUnitSpectrum()
    {
        var gaussian = BlurKernelOtf.Compute(Gaussian(5, 1.0, 2.0), 8, 9).ToDoubleArray();
        for (int i = 1; i < gaussian.Length; i += 2) Assert.That(gaussian[i], Is.EqualTo(0).Within(1e-14), "imaginary part");
        var delta = BlurKernelOtf.Compute(Delta(2, 3), 6, 7).ToDoubleArray();
        for (int i = 0; i < delta.Length; i++) Assert.That(delta[i], Is.EqualTo(i % 2 == 0 ? 1 : 0).Within(1e-15));
    }

    [Test]
    public void RejectsBadKernels()
    {
        Assert.That(() => BlurKernelOtf.Compute(Tensor.Zeros([2, 5, 5], Kernels.DType.Float64), 4, 8),
            Throws.ArgumentException.With.Message.Contains("does not fit").And.Message.Contains("height"));
        Assert.That(() => BlurKernelOtf.Compute(Tensor.Zeros([2, 5, 5], Kernels.DType.Float64), 8, 3),
            Throws.ArgumentException.With.Message.Contains("does not fit").And.Message.Contains("width"));
        Assert.That(() => BlurKernelOtf.Compute(Tensor.Zeros([2, 4, 4], Kernels.DType.Float64), 8, 8),
            Throws.ArgumentException.With.Message.Contains("odd"));
        Assert.That(() => BlurKernelOtf.Compute(Tensor.Zeros([2, 3, 5], Kernels.DType.Float64), 8, 8),
            Throws.ArgumentException.With.Message.Contains("[N, ks, ks]"));
        Assert.That(() => BlurKernelOtf.Compute(Tensor.Zeros([3, 3], Kernels.DType.Float64), 8, 8),
            Throws.ArgumentException.With.Message.Contains("[N, ks, ks]"));
    }
}
