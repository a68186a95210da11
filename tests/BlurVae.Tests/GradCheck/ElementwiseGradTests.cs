using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class ElementwiseGradTests
{
    // Odd sizes: 3×5×7 = 105 elements.
    private static readonly int[] Shape = [3, 5, 7];

    [Test] public void Relu() => AssertGradients(x => x[0].Relu(), RandnAwayFromZero(1, 0.05, Shape));
    [Test] public void LeakyRelu() => AssertGradients(x => x[0].LeakyRelu(0.2), RandnAwayFromZero(2, 0.05, Shape));
    [Test] public void Tanh() => AssertGradients(x => x[0].Tanh(), Randn(3, Shape));
    [Test] public void Sigmoid() => AssertGradients(x => x[0].Sigmoid(), Randn(4, Shape));
    [Test] public void Exp() => AssertGradients(x => x[0].Exp(), Randn(5, Shape));
    [Test] public void Log() => AssertGradients(x => x[0].Log(), Positive(6, Shape));
    [Test] public void Abs() => AssertGradients(x => x[0].Abs(), RandnAwayFromZero(7, 0.05, Shape));
    [Test] public void Square() => AssertGradients(x => x[0].Square(), Randn(8, Shape));
    [Test] public void Pow() => AssertGradients(x => x[0].Pow(2.5), Positive(9, Shape));
    [Test] public void Sqrt() => AssertGradients(x => x[0].Sqrt(), Positive(10, Shape));
    [Test] public void ScaleAndShift() => AssertGradients(x => (x[0] * 3.0 - 1.5) / 2.0 + 0.25, Randn(11, Shape));
    [Test] public void Negate() => AssertGradients(x => -x[0], Randn(12, Shape));
    [Test] public void ScalarMinusTensor() => AssertGradients(x => 2.0 - x[0], Randn(13, Shape));
    [Test] public void ScalarOverTensor() => AssertGradients(x => 2.0 / x[0], Positive(14, Shape));

    [Test]
    public void Relu6()
    {
        // Values spread over (−3, 9) but kept 0.05 away from both kinks at 0 and 6.
        var rng = new Random(15);
        var v = new double[105];
        for (int i = 0; i < v.Length; i++)
        {
            double t;
            do t = -3 + 12 * rng.NextDouble(); while (Math.Abs(t) < 0.05 || Math.Abs(t - 6) < 0.05);
            v[i] = t;
        }
        AssertGradients(x => x[0].Relu6(), Tensor.FromArray(v, Shape));
    }
}
