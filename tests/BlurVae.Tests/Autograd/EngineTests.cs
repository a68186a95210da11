
namespace BlurVae.Tests.Autograd;

[TestFixture, Category("Autograd")]
public class EngineTests
{
    private static Tensor Leaf(params double[] v) => new(Tensor.FromArray(v, [v.Length]).Buffer, [v.Length]) { RequiresGrad = true };

    [Test]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed()
    {
        var x = Leaf(1, 2, 3);
        (x * x).Sum().Backward();
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 2.0, 4, 6 }));
        (x * 3.0).Sum().Backward();
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 5.0, 7, 9 }));
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
        (x * 3.0).Sum().Backward();
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 3.0, 3, 3 }));
    }

    [Test]
    public void AccumulationDoesNotCorruptASharedFirstGradient()
    {
        // a + b passes the same gradient tensor to both leaves; adding more to a's must leave b's alone.
        var a = Leaf(1, 1);
        var b = Leaf(2, 2);
        ((a + b) * 1.0).Sum().Backward();
        (a * 5.0).Sum().Backward();
        Assert.That(a.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 6.0, 6 }));
        Assert.That(b.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 1.0, 1 }));
    }

    [Test]
    public void NoGradRecordsNothing()
    {
        var x = Leaf(1, 2);
        Tensor y;
        using (GradMode.NoGrad())
        {
            y = x * x;
            Assert.That(GradMode.IsEnabled, Is.False);
        }
        Assert.That(GradMode.IsEnabled, Is.True);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.Creator, Is.Null);
        Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
    }

    [Test]
    public void DetachCutsTheGraph()
    {
        var x = Leaf(1, 2);
        var y = (x * x).Detach() * x;
        y.Sum().Backward();
        // Only the last factor is differentiated: d/dx (c·x) = c = x² at the point.
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 1.0, 4 }));
    }

    [Test]
    public void NonScalarBackwardNeedsAGradient()
    {
        var x = Leaf(1, 2);
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2.0).Backward());
        Assert.That(ex!.Message, Does.Contain("one-element"));
        (x * 2.0).Backward(Tensor.FromArray([1.0, 10], [2]));
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new[] { 2.0, 20 }));
    }

    [Test]
    public void DeepChainDoesNotOverflowTheStack()
    {
        var x = Leaf(0.5);
        var y = x;
        for (int i = 0; i < 20_000; i++) y = y * 1.0;
        y.Sum().Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(1.0));
    }

    [Test]
    public void MixedPrecisionIsRejectedClearly()
    {
        var a = Tensor.Zeros([2], DType.Float32);
        var b = Tensor.Zeros([2], DType.Float64);
        var ex = Assert.Throws<ArgumentException>(() => _ = a + b);
        Assert.That(ex!.Message, Does.Contain("Float32").And.Contain("Float64"));
    }
}
