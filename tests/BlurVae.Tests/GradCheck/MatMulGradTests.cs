using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class MatMulGradTests
{
    [Test] public void MatMul2d() => AssertGradients(x => x[0].MatMul(x[1]), Randn(1, 5, 7), Randn(2, 7, 3));
    [Test] public void MatMulBatched() => AssertGradients(x => x[0].MatMul(x[1]), Randn(3, 3, 5, 7), Randn(4, 3, 7, 2));
    [Test] public void MatMulSharedRight() => AssertGradients(x => x[0].MatMul(x[1]), Randn(5, 3, 5, 7), Randn(6, 7, 4));
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

    [Test]
    public void MatMulValues()
    {
        var a = BlurVae.Training.Engine.Tensors.Tensor.FromArray([1.0, 2, 3, 4, 5, 6], [2, 3]);
        var b = BlurVae.Training.Engine.Tensors.Tensor.FromArray([7.0, 8, 9, 10, 11, 12], [3, 2]);
        Assert.That(a.MatMul(b).ToDoubleArray(), Is.EqualTo(new[] { 58.0, 64, 139, 154 }));
    }

    [Test]
    public void MismatchedInnerExtentsAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Randn(1, 3, 4).MatMul(Randn(2, 5, 2)));
        Assert.That(ex!.Message, Does.Contain("inner extents"));
    }
}
