using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>The ops added for the Watson-DFT loss: atan2, cos, acos, replicate padding, block unfolding.</summary>
[TestFixture, Category("GradCheck")]
public class WatsonFunctionGradTests
{
    [Test] public void Atan2BothOperands() => AssertGradients(x => Atan2Function.Forward(x[0], x[1]), RandnAwayFromZero(1, 0.2, 3, 4, 5), Randn(2, 3, 4, 5));

    [Test] public void Atan2OnlyTheNumerator()
    {
        var x = RandnAwayFromZero(3, 0.3, 2, 7);
        AssertGradients(y => Atan2Function.Forward(y[0], x), Randn(4, 2, 7));
    }

    [Test] public void Cos() => AssertGradients(x => CosFunction.Forward(x[0]), Randn(5, 3, 2, 5));

    [Test]
    public void Acos()
    {
        // Inside (−1, 1), away from the infinite slopes at the ends.
        var x = Tensor.Uniform([4, 6], -0.9, 0.9, new Random(6), BlurVae.Kernels.DType.Float64);
        AssertGradients(y => AcosFunction.Forward(y[0]), x);
    }

    [TestCase(4, 4, 4, 4), TestCase(1, 0, 2, 3), TestCase(0, 0, 0, 0), TestCase(6, 5, 7, 9)]
    public void ReplicatePad2d(int top, int bottom, int left, int right) =>
        AssertGradients(x => ReplicatePad2dFunction.Forward(x[0], top, bottom, left, right), Randn(7, 2, 3, 4, 5));

    [Test] public void ReplicatePadThenCrop() =>
        AssertGradients(x => ReplicatePad2dFunction.Forward(x[0], 4, 4, 4, 4).Narrow(2, 7, 8).Narrow(3, 1, 8), Randn(8, 2, 1, 8, 8));

    [TestCase(2), TestCase(4)]
    public void BlockUnfold(int b) => AssertGradients(x => BlockUnfoldFunction.Forward(x[0], b), Randn(9, 2, 3, 8, 4));

    [Test] public void BlockUnfoldRank2() => AssertGradients(x => BlockUnfoldFunction.Forward(x[0], 3), Randn(10, 6, 9));
}
