using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>add/sub/mul/div with equal shapes, per-channel operands, scalars and two-sided broadcasts.</summary>
[TestFixture, Category("GradCheck")]
public class BroadcastGradTests
{
    private static Tensor Op(string op, Tensor a, Tensor b) => op switch
    {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "div" => a / b,
        _ => throw new ArgumentException(op),
    };

    // Division gets positive denominators so the finite differences stay well conditioned.
    private static Tensor Right(string op, int seed, params int[] shape) => op == "div" ? Positive(seed, shape) : Randn(seed, shape);

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void SameShape(string op) => AssertGradients(x => Op(op, x[0], x[1]), Randn(1, 3, 5, 4, 3), Right(op, 2, 3, 5, 4, 3));

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void PerChannel(string op) => AssertGradients(x => Op(op, x[0], x[1]), Randn(3, 3, 5, 4, 3), Right(op, 4, 1, 5, 1, 1));

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void PerChannelLowerRank(string op) => AssertGradients(x => Op(op, x[0], x[1]), Randn(5, 3, 5, 4, 3), Right(op, 6, 5, 1, 1));

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void ScalarTensor(string op) => AssertGradients(x => Op(op, x[0], x[1]), Randn(7, 3, 5, 7), Right(op, 8));

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void ScalarOnTheLeft(string op) => AssertGradients(x => Op(op, x[1], x[0]), op == "div" ? Positive(9, 3, 5, 7) : Randn(9, 3, 5, 7), Randn(10));

    [TestCase("add"), TestCase("sub"), TestCase("mul"), TestCase("div")]
    public void BothSidesBroadcast(string op) => AssertGradients(x => Op(op, x[0], x[1]), Randn(11, 5, 1, 3), Right(op, 12, 1, 7, 1));

    [Test]
    public void IncompatibleShapesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = Randn(1, 3, 4) + Randn(2, 3, 5));
        Assert.That(ex!.Message, Does.Contain("do not broadcast"));
    }
}
