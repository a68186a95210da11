
namespace BlurVae.Tests.GradCheck;

/// <summary>The checker must catch a wrong backward, or every other GradCheck test proves nothing.</summary>
[TestFixture, Category("GradCheck")]
public class GradCheckerSelfTests
{
    // y = x³ with a backward that forgets the factor 3.
    private sealed class WrongCubeFunction : Function
    {
        public static Tensor Forward(Tensor x)
        {
            var y = x.Detach().Pow(3).Detach();
            return new WrongCubeFunction().Record(y, x);
        }

        public override Tensor?[] Backward(Tensor g) => [g * Inputs[0].Detach().Square()];
    }

    // Forward right, backward right but for one element only wrong in sign: a localised error must be caught too.
    private sealed class OneWrongElementFunction : Function
    {
        public static Tensor Forward(Tensor x) => new OneWrongElementFunction().Record(x.Detach() * 2.0, x);

        public override Tensor?[] Backward(Tensor g)
        {
            var v = g.ToDoubleArray();
            for (int i = 0; i < v.Length; i++) v[i] *= i == 3 ? -2 : 2;
            return [Tensor.FromArray(v, g.Shape)];
        }
    }

    [Test]
    public void WrongBackwardFails()
    {
        var result = GradChecker.Check(xs => WrongCubeFunction.Forward(xs[0]), [GradChecker.Randn(1, 3, 4)]);
        Assert.That(result.Passed, Is.False, "a backward missing a factor 3 passed the check");
        Assert.That(result.Report, Does.Contain("analytic"));
    }

    [Test]
    public void SingleWrongElementFails()
    {
        var result = GradChecker.Check(xs => OneWrongElementFunction.Forward(xs[0]), [GradChecker.Randn(2, 2, 5)]);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Report, Does.Contain("element 3"));
    }

    [Test]
    public void CorrectBackwardPasses()
    {
        var result = GradChecker.Check(xs => xs[0].Pow(3), [GradChecker.Randn(3, 3, 4)]);
        Assert.That(result.Passed, Is.True, result.Report);
    }
}
