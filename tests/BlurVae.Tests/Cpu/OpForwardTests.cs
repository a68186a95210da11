
namespace BlurVae.Tests.Cpu;

/// <summary>Forward values of the other ops against hand-computed or definition-computed values.</summary>
[TestFixture, Category("Cpu")]
public class OpForwardTests
{
    [Test]
    public void BilinearUpsampleMatchesPyTorch()
    {
        // torch.nn.functional.interpolate([[1,2],[3,4]], scale_factor=2, mode="bilinear", align_corners=False)
        var x = Tensor.FromArray([1.0, 2, 3, 4], [1, 1, 2, 2]);
        double[] expected =
        [
            1.00, 1.25, 1.75, 2.00,
            1.50, 1.75, 2.25, 2.50,
            2.50, 2.75, 3.25, 3.50,
            3.00, 3.25, 3.75, 4.00,
        ];
        Assert.That(new UpsampleBilinear2x().Forward(x).ToDoubleArray(), Is.EqualTo(expected).Within(1e-12));
    }

    // A convolution's bias gradient, [n, c, h, w] → [1, c, 1, 1], runs over channel ranges in parallel: each channel's
    // sum image by image, as one thread sums it (bit for bit at 1 and 3 threads), and equal to the definition.
    [TestCase(5, 301, 7, 3), TestCase(16, 32, 32, 32), TestCase(3, 2, 1, 1)]
    public void SumToChannelsMatchesDefinitionWhateverTheThreads(int n, int c, int h, int w)
    {
        var rng = new Random(c);
        double[] x = DirectConvTests.Random(rng, n * c * h * w);
        var be = CpuBackend.Instance;
        float[] Run()
        {
            var bx = be.Allocate(DType.Float32, x.Length);
            be.Upload(bx, x.Select(v => (float)v).ToArray());
            var y = be.Allocate(DType.Float32, c);
            be.SumTo(y, [1, c, 1, 1], bx, [n, c, h, w]);
            var result = new float[c];
            be.Download(y, result);
            return result;
        }
        var (one, three) = ThreadCount.OneAndThree(Run);
        Assert.That(three, Is.EqualTo(one));
        var expected = Enumerable.Range(0, c).Select(ch => Enumerable.Range(0, n).Sum(i => x.Skip((i * c + ch) * h * w).Take(h * w).Sum())).ToArray();
        Reference.AssertClose(one.Select(v => (double)v).ToArray(), expected, 1e-4, 1e-5, "channel sums");
    }

    [Test]
    public void SoftmaxRowsSumToOneAndSurviveLargeLogits()
    {
        var x = Tensor.FromArray([1000.0, 1001, 1002, -5, 0, 5], [2, 3]);
        var y = x.Softmax().ToDoubleArray();
        double e1 = Math.Exp(-1), e2 = Math.Exp(-2);
        double z = 1 + e1 + e2;
        Assert.That(y, Is.EqualTo(new[] { e2 / z, e1 / z, 1 / z, Math.Exp(-10) / (1 + Math.Exp(-5) + Math.Exp(-10)), Math.Exp(-5) / (1 + Math.Exp(-5) + Math.Exp(-10)), 1 / (1 + Math.Exp(-5) + Math.Exp(-10)) }).Within(1e-12));
    }

    [Test]
    public void BatchNormTrainingNormalisesAndUpdatesRunningStatistics()
    {
        // Channel 0 holds 1..4, channel 1 holds 10·(1..4): mean 2.5 / 25, biased variance 1.25 / 125.
        var x = Tensor.FromArray([1.0, 2, 10, 20, 3, 4, 30, 40], [2, 2, 2]);
        var rm = Tensor.Zeros([2], DType.Float64);
        var rv = Tensor.Ones([2], DType.Float64);
        var y = Functional.BatchNorm(x, rm, rv, null, null, training: true, momentum: 0.1, eps: 0).ToDoubleArray();
        double s = 1 / Math.Sqrt(1.25);
        Assert.That(y, Is.EqualTo(new[] { -1.5 * s, -0.5 * s, -1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s, 0.5 * s, 1.5 * s }).Within(1e-12));
        // Running variance uses the unbiased estimate (5/3 and 500/3), momentum 0.1.
        Assert.That(rm.ToDoubleArray(), Is.EqualTo(new[] { 0.25, 2.5 }).Within(1e-12));
        Assert.That(rv.ToDoubleArray(), Is.EqualTo(new[] { 0.9 + 0.1 * 5.0 / 3, 0.9 + 0.1 * 500.0 / 3 }).Within(1e-12));
    }

    [Test]
    public void BatchNormEvalUsesRunningStatistics()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4], [2, 2]);
        var rm = Tensor.FromArray([1.0, 2], [2]);
        var rv = Tensor.FromArray([4.0, 0.25], [2]);
        var gamma = Tensor.FromArray([2.0, 3], [2]);
        var beta = Tensor.FromArray([0.5, -1], [2]);
        var y = Functional.BatchNorm(x, rm, rv, gamma, beta, training: false, eps: 0).ToDoubleArray();
        Assert.That(y, Is.EqualTo(new[] { 0.5, -1, 2 * 2 / 2.0 + 0.5, 3 * 2 / 0.5 - 1 }).Within(1e-12));
        Assert.That(rm.ToDoubleArray(), Is.EqualTo(new[] { 1.0, 2 }), "evaluation must not touch the running mean");
    }

    [Test]
    public void GeneralBroadcastMatchesElementLoop()
    {
        // [3,1,5,1] * [1,4,1,2] exercises the strided path (no operand is a single row or scalar).
        var rng = new Random(5);
        var a = Tensor.Randn([3, 1, 5, 1], rng, DType.Float64);
        var b = Tensor.Randn([1, 4, 1, 2], rng, DType.Float64);
        var y = (a / b).ToDoubleArray();
        var av = a.ToDoubleArray();
        var bv = b.ToDoubleArray();
        int idx = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                    for (int l = 0; l < 2; l++)
                        Assert.That(y[idx++], Is.EqualTo(av[i * 5 + k] / bv[j * 2 + l]).Within(1e-15));
    }

    [Test]
    public void SumOverMiddleAxes()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), [2, 3, 4]);
        Assert.That(x.Sum([1]).ToDoubleArray(), Is.EqualTo(new double[] { 12, 15, 18, 21, 48, 51, 54, 57 }));
        Assert.That(x.Sum([0, 2]).ToDoubleArray(), Is.EqualTo(new double[] { 0 + 1 + 2 + 3 + 12 + 13 + 14 + 15, 4 + 5 + 6 + 7 + 16 + 17 + 18 + 19, 8 + 9 + 10 + 11 + 20 + 21 + 22 + 23 }));
        Assert.That(x.Mean().Item(), Is.EqualTo(11.5));
    }

    [Test]
    public void LargeElementwiseOpsUseBothCoresConsistently()
    {
        // Above the parallel grain: chunked results must equal the single-row formula everywhere.
        var x = Tensor.Randn([300_001], new Random(1), DType.Float32);
        var y = x.LeakyRelu(0.2).ToFloatArray();
        var xv = x.ToFloatArray();
        for (int i = 0; i < xv.Length; i++)
            Assert.That(y[i], Is.EqualTo(xv[i] > 0 ? xv[i] : 0.2f * xv[i]));
        Assert.That(x.Sum().Item(), Is.EqualTo(xv.Sum(v => (double)v)).Within(1e-2));
    }
}
