
namespace BlurVae.Tests.Autograd;

/// <summary>The autograd's ownership rule: intermediates go back to the backend as soon as backward is done with them.</summary>
[TestFixture, Category("Autograd")]
public class ReleaseTests
{
    // Large enough for the CPU ArrayRecycler, so a released array is visibly handed to the next allocation.
    private const int N = ArrayRecycler.MinLength + 3;

    private static Tensor Leaf(int n, int seed)
    {
        var t = Tensor.Randn([n], new Random(seed), DType.Float64);
        t.RequiresGrad = true;
        return t;
    }

    [Test]
    public void IntermediatesAreRecycledRightAfterBackward()
    {
        var x = Leaf(N, 1);
        var y = x * x;
        var z = y.Exp();
        var loss = z.Sum();
        var yArray = ((CpuBuffer)y.Buffer).Data;
        loss.Backward();
        Assert.Multiple(() =>
        {
            Assert.That(y.Buffer.IsReleased, Is.True, "x·x");
            Assert.That(z.Buffer.IsReleased, Is.True, "exp");
            Assert.That(loss.Buffer.IsReleased, Is.False, "the root is the caller's");
            Assert.That(x.Buffer.IsReleased, Is.False, "a leaf");
            Assert.That(x.Grad!.Buffer.IsReleased, Is.False, "a leaf's gradient");
        });
        // The released array is the next same-sized allocation's, without a garbage collection in between.
        var next = Tensor.Zeros([N], DType.Float64);
        Assert.That(((CpuBuffer)next.Buffer).Data, Is.SameAs(yArray));
        Assert.That(next.ToDoubleArray().All(v => v == 0), Is.True, "recycled memory comes back zeroed");
    }

    // A node with two outputs (SplitHalves) runs its backward once, with both gradients, and its outputs go back
    // together once neither is read by anything else; with one output unused, the other's gradient alone reaches it.
    [Test]
    public void BothOutputsOfASplitAreRecycledAfterItsOneBackward()
    {
        var x = Leaf(2 * N, 6);
        var y = x * 1.0;
        var (first, second) = y.SplitHalves(axis: 0);
        (first.Exp().Sum() + second.Square().Sum()).Backward();
        Assert.Multiple(() =>
        {
            Assert.That(first.Buffer.IsReleased, Is.True, "first half");
            Assert.That(second.Buffer.IsReleased, Is.True, "second half");
            Assert.That(y.Buffer.IsReleased, Is.True, "the split's input");
        });
        var xs = x.ToDoubleArray();
        var expected = xs.Select((v, i) => i < N ? Math.Exp(v) : 2 * v).ToArray();
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(expected).Within(1e-12));

        var x2 = Leaf(2 * N, 7);
        var (used, _) = (x2 * 1.0).SplitHalves(axis: 0);
        used.Sum().Backward();
        Assert.That(x2.Grad!.ToDoubleArray(), Is.EqualTo(Enumerable.Range(0, 2 * N).Select(i => i < N ? 1.0 : 0.0)));
    }

    [Test]
    public void KeptAndDetachedIntermediatesSurviveWithTheirValues()
    {
        var x = Leaf(N, 2);
        var y = (x * x).Keep();
        var w = (x + 1.0).Exp();
        var wDetached = w.Detach();
        var expectedY = y.ToDoubleArray();
        var expectedW = w.ToDoubleArray();
        (y * w).Sum().Backward();
        Assert.That(y.ToDoubleArray(), Is.EqualTo(expectedY));
        Assert.That(wDetached.ToDoubleArray(), Is.EqualTo(expectedW));
        Assert.That(w.ToDoubleArray(), Is.EqualTo(expectedW), "the detached view pins the shared buffer");
    }

    [Test]
    public void UseAfterReleaseIsAnErrorNamingTheFix()
    {
        var x = Leaf(N, 3);
        var y = x * x;
        y.Sum().Backward();
        var e = Assert.Throws<ObjectDisposedException>(() => y.ToDoubleArray());
        Assert.That(e!.Message, Does.Contain("Keep()"));
    }

    [Test]
    public void ViewsOfAnIntermediateReleaseTheBufferOnlyWithTheLastOfThem()
    {
        // exp saves its output, and a reshape of it shares the buffer: the reshape finishing first must not free it.
        var x = Leaf(N, 4);
        var y = x.Exp();
        var r = y.Reshape([1, N]);
        r.Sum().Backward();
        Assert.That(y.Buffer.IsReleased, Is.True);
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(x.Exp().ToDoubleArray()).Within(1e-12));
    }

    [Test]
    public void AnIntermediateSharedWithAnotherGraphWaitsForThatGraphsBackward()
    {
        var x = Leaf(N, 5);
        var h = x.Exp();
        var a = h.Sum();
        var b = (h * 2.0).Sum();
        a.Backward();
        Assert.That(h.Buffer.IsReleased, Is.False, "b's graph still reads h");
        b.Backward();
        Assert.That(h.Buffer.IsReleased, Is.True);
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(x.Exp().ToDoubleArray().Select(v => 3 * v).ToArray()).Within(1e-9));
    }

    [Test]
    public void SecondBackwardThroughAReleasedGraphIsAnError()
    {
        var x = Leaf(8, 6);
        var loss = (x * x).Sum();
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.That(e!.Message, Does.Contain("second time"));
    }

    [Test]
    public void ZeroGradRecyclesTheGradientButNotAClone()
    {
        var x = Leaf(N, 7);
        (x * x).Sum().Backward();
        var grad = x.Grad!;
        var copy = grad.Clone();
        x.ZeroGrad();
        Assert.That(grad.Buffer.IsReleased, Is.True);
        Assert.That(copy.ToDoubleArray(), Is.EqualTo(x.ToDoubleArray().Select(v => 2 * v).ToArray()));
    }

    [Test]
    public void AGradientGivenToTwoLeavesLivesUntilBothLetGo()
    {
        var a = Leaf(N, 8);
        var b = Leaf(N, 9);
        (a + b).Sum().Backward();
        a.ZeroGrad();
        Assert.That(b.Grad!.ToDoubleArray().All(v => v == 1), Is.True);
    }
}
