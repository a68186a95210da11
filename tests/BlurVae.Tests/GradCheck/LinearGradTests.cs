using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>The linear family: Functional.Linear (GEMM + bias) and the fused bias + activation after it
/// (IBackend.BiasActivationForward/Backward, kernels/linear.cuh), against finite differences.</summary>
[TestFixture, Category("GradCheck")]
public class LinearGradTests
{
    [Test] public void LinearWithBias() => AssertGradients(x => Functional.Linear(x[0], x[1], x[2]), Randn(7, 3, 7), Randn(8, 5, 7), Randn(9, 5));
    [Test] public void LinearWithoutBias() => AssertGradients(x => Functional.Linear(x[0], x[1]), Randn(10, 3, 7), Randn(11, 5, 7));
    [Test] public void LinearOnRank3Input() => AssertGradients(x => Functional.Linear(x[0], x[1], x[2]), Randn(12, 3, 2, 7), Randn(13, 5, 7), Randn(14, 5));

    // The fused bias + activation (IBackend.BiasActivation*): inputs scaled by 3 so that ReLU6 also sees pre-activations
    // above 6; the backward reads the branch from the output.
    [TestCase(UnaryOp.Relu, 0.0, true), TestCase(UnaryOp.LeakyRelu, 0.2, true), TestCase(UnaryOp.Relu6, 0.0, true), TestCase(UnaryOp.LeakyRelu, 0.0, false)]
    public void LinearActivation(UnaryOp activation, double alpha, bool bias) => AssertGradients(
        x => Functional.LinearActivation(x[0], x[1], bias ? x[2] : null, activation, alpha), Randn(15, 4, 7) * 3.0, Randn(16, 33, 7), Randn(17, 33));

    [TestCase(UnaryOp.Relu, 0.0), TestCase(UnaryOp.LeakyRelu, 0.2), TestCase(UnaryOp.Relu6, 0.0)]
    public void LinearActivationEqualsLinearThenActivation(UnaryOp activation, double alpha)
    {
        Tensor x = Randn(18, 5, 7) * 3.0, w = Randn(19, 9, 7), b = Randn(20, 9);
        var linear = Functional.Linear(x, w, b);
        var expected = activation switch { UnaryOp.Relu => linear.Relu(), UnaryOp.Relu6 => linear.Relu6(), _ => linear.LeakyRelu(alpha) };
        Assert.That(Functional.LinearActivation(x, w, b, activation, alpha).ToDoubleArray(), Is.EqualTo(expected.ToDoubleArray()));
    }

    [Test]
    public void LinearActivationRejectsANegativeSlopeAndOtherOps()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.LinearActivation(Randn(1, 2, 3), Randn(2, 4, 3), null, UnaryOp.LeakyRelu, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.LinearActivation(Randn(1, 2, 3), Randn(2, 4, 3), null, UnaryOp.Tanh));
    }
}
