using System.Numerics;
using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class LogDeterminantTests
{
    // ½log|Σ| = log|det K(ε)| per channel, with K(ε) = K + εI built as an explicit (hw)×(hw) matrix.
    [TestCase(3, 1, 7, 9, 3, 0.5), TestCase(3, 3, 8, 8, 5, 0.1), TestCase(2, 2, 5, 6, 5, 0.0), TestCase(2, 1, 4, 4, 3, 2.0)]
    public void MatchesDeterminantOfTheShiftedBlurMatrix(int n, int channels, int h, int w, int ks, double eps)
    {
        var kernel = Uniform(20 + ks, -0.5, 1, n, ks, ks);
        double actual = LogDeterminant.Compute(kernel, channels, h, w, eps).Item();
        var k = kernel.ToDoubleArray();
        double expected = 0;
        for (int i = 0; i < n; i++)
        {
            var m = CirculantMatrix(Embed(k, i, ks, h, w), h, w);
            for (int d = 0; d < h * w; d++) m[d, d] += eps;
            expected += channels * LogAbsDeterminant(m);
        }
        expected /= n;
        Assert.That(actual, Is.EqualTo(expected).Within(1e-9 * Math.Max(1, Math.Abs(expected))));
    }

    // The exact form: Σ⁻¹ = WᵀW with W the explicit matrix of the Wiener filter's circular convolution, ½log|Σ| = −log|det W|.
    [TestCase(3, 1, 7, 9, 3, 0.025), TestCase(2, 3, 6, 6, 5, 0.1)]
    public void ExactFormMatchesTheWienerFilterMatrix(int n, int channels, int h, int w, int ks, double constant)
    {
        var kernel = Uniform(30 + ks, 0, 1, n, ks, ks);
        double actual = LogDeterminant.ComputeExact(kernel, channels, h, w, constant).Item();
        var k = kernel.ToDoubleArray();
        double expected = 0;
        for (int i = 0; i < n; i++)
        {
            var fk = Dft(Embed(k, i, ks, h, w), h, w);
            var filter = fk.Select(f => Complex.Conjugate(f) / (f.Magnitude * f.Magnitude + constant)).ToArray();
            var impulse = InverseDft(filter, h, w, 1.0 / (h * w));
            Assert.That(impulse.Max(z => Math.Abs(z.Imaginary)), Is.LessThan(1e-12), "the Wiener filter is a real convolution");
            var wm = CirculantMatrix(impulse.Select(z => z.Real).ToArray(), h, w);
            expected += -channels * LogAbsDeterminant(wm);
        }
        expected /= n;
        Assert.That(actual, Is.EqualTo(expected).Within(1e-9 * Math.Max(1, Math.Abs(expected))));
    }

    [Test]
    public void BothFormsAgreeWithoutRegularisationAndVanishForADelta()
    {
        var kernel = Uniform(40, 0.2, 1, 2, 3, 3);
        double paper = LogDeterminant.Compute(kernel, 3, 6, 7, eps: 0).Item();
        double exact = LogDeterminant.ComputeExact(kernel, 3, 6, 7, c: 0).Item();
        Assert.That(paper, Is.EqualTo(exact).Within(1e-10 * Math.Abs(exact)));
        Assert.That(LogDeterminant.Compute(Delta(2, 3), 3, 6, 7, eps: 0).Item(), Is.EqualTo(0).Within(1e-13));
        // K + εI of a delta is (1 + ε)I: ½log|Σ| = C·H·W·log(1 + ε).
        Assert.That(LogDeterminant.Compute(Delta(2, 3), 3, 6, 7, eps: 0.5).Item(), Is.EqualTo(3 * 6 * 7 * Math.Log(1.5)).Within(1e-11));
    }

    [Test]
    public void RejectsBadArguments()
    {
        var k = Delta(2, 3);
        Assert.That(() => LogDeterminant.Compute(k, 0, 8, 8, 0.1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("channel"));
        Assert.That(() => LogDeterminant.Compute(k, 1, 8, 8, -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("eps"));
        Assert.That(() => LogDeterminant.Compute(k, 1, 8, 8, double.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("eps"));
        Assert.That(() => LogDeterminant.Compute(k, 1, 2, 8, 0.1), Throws.ArgumentException.With.Message.Contains("does not fit"));
        Assert.That(() => LogDeterminant.ComputeExact(k, 1, 8, 8, -0.5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("c"));
        Assert.That(() => LogDeterminant.Compute(Tensor.Zeros([2, 2, 2], DType.Float64), 1, 8, 8, 0.1), Throws.ArgumentException.With.Message.Contains("odd"));
    }
}
