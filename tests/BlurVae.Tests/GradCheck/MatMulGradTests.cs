using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

[TestFixture, Category("GradCheck")]
public class MatMulGradTests
{
    [Test] public void MatMul2d() => AssertGradients(x => x[0].MatMul(x[1]), Randn(1, 5, 7), Randn(2, 7, 3));
    [Test] public void MatMulBatched() => AssertGradients(x => x[0].MatMul(x[1]), Randn(3, 3, 5, 7), Randn(4, 3, 7, 2));
    [Test] public void MatMulSharedRight() => AssertGradients(x => x[0].MatMul(x[1]), Randn(5, 3, 5, 7), Randn(6, 7, 4));
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
