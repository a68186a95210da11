using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class BaselineLossTests
{
    private static readonly Tensor X = Uniform(1, -1, 1, 3, 3, 7, 9);
    private static readonly Tensor XHat = Uniform(2, -1, 1, 3, 3, 7, 9);

    [Test]
    public void L2IsHalfTheSumOfSquaresPerImage() =>
        Assert.That(L2Loss.Compute(X, XHat).Item(), Is.EqualTo(PerImage(X, XHat, (a, b) => 0.5 * (a - b) * (a - b))).Within(1e-12));

    [Test]
    public void L1IsTheSumOfAbsoluteErrorsPerImage() =>
        Assert.That(L1Loss.Compute(X, XHat).Item(), Is.EqualTo(PerImage(X, XHat, (a, b) => Math.Abs(a - b))).Within(1e-12));

    [Test]
    public void BceOnRescaledPixels()
    {
        static double Bce(double a, double b)
        {
            double t = (a + 1) / 2, p = Math.Clamp((b + 1) / 2, 1e-7, 1 - 1e-7);
            return -(t * Math.Log(p) + (1 - t) * Math.Log(1 - p));
        }
        Assert.That(BceLoss.Compute(X, XHat).Item(), Is.EqualTo(PerImage(X, XHat, Bce)).Within(1e-10));

        // Saturated and out-of-range predictions are clamped: finite loss, and no gradient through the clamp.
        var x = Tensor.FromArray([1.0, -1.0, 0.5, 0.0], [2, 2]);
        var xHat = Tensor.FromArray([-1.0, 1.2, 1.0, -3.0], [2, 2]);
        xHat.RequiresGrad = true;
        var loss = BceLoss.Compute(x, xHat);
        Assert.That(loss.Item(), Is.EqualTo(PerImage(x, xHat, Bce)).Within(1e-9));
        Assert.That(double.IsFinite(loss.Item()));
        loss.Backward();
        Assert.That(xHat.Grad!.ToDoubleArray(), Is.EqualTo(new double[4]));
    }

    [Test]
    public void KlOfStandardNormalIsZeroAndMatchesTheFormula()
    {
        Assert.That(KlDivergence.Compute(Tensor.Zeros([4, 5], DType.Float64), Tensor.Zeros([4, 5], DType.Float64)).Item(), Is.EqualTo(0));
        var mu = Uniform(3, -2, 2, 3, 7);
        var logVar = Uniform(4, -3, 1, 3, 7);
        var (m, lv) = (mu.ToDoubleArray(), logVar.ToDoubleArray());
        double expected = 0;
        for (int i = 0; i < m.Length; i++) expected += -0.5 * (1 + lv[i] - m[i] * m[i] - Math.Exp(lv[i]));
        Assert.That(KlDivergence.Compute(mu, logVar).Item(), Is.EqualTo(expected / 3).Within(1e-12));
    }

    [Test]
    public void RejectMismatchedShapes()
    {
        var other = Uniform(5, -1, 1, 3, 3, 9, 7);
        Assert.That(() => L2Loss.Compute(X, other), Throws.ArgumentException.With.Message.Contains("L2Loss").And.Message.Contains("[3, 3, 9, 7]"));
        Assert.That(() => L1Loss.Compute(X, other), Throws.ArgumentException.With.Message.Contains("L1Loss"));
        Assert.That(() => BceLoss.Compute(X, other), Throws.ArgumentException.With.Message.Contains("BceLoss"));
        Assert.That(() => L2Loss.Compute(X, XHat.To(DType.Float32)), Throws.ArgumentException.With.Message.Contains("Float32"));
        Assert.That(() => L2Loss.Compute(Tensor.Zeros([4], DType.Float64), Tensor.Zeros([4], DType.Float64)), Throws.ArgumentException.With.Message.Contains("[N, ...]"));
        Assert.That(() => KlDivergence.Compute(Uniform(6, 0, 1, 3, 4), Uniform(6, 0, 1, 3, 5)), Throws.ArgumentException.With.Message.Contains("logVar"));
        Assert.That(() => KlDivergence.Compute(Uniform(6, 0, 1, 4), Uniform(6, 0, 1, 4)), Throws.ArgumentException.With.Message.Contains("[N, Z]"));
    }

    // Σ over every element of f(x, x̂), divided by the batch size.
    private static double PerImage(Tensor x, Tensor xHat, Func<double, double, double> f)
    {
        var (a, b) = (x.ToDoubleArray(), xHat.ToDoubleArray());
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += f(a[i], b[i]);
        return s / x.Shape[0];
    }
}
