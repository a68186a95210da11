
namespace BlurVae.Tests.Losses.WatsonDft;

/// <summary>Forward values of the ops added for Watson-DFT, against hand-written expectations.</summary>
[TestFixture, Category("Losses")]
public class WatsonFunctionForwardTests
{
    [Test]
    public void ReplicatePadCopiesTheEdges()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], [1, 2, 3]);
        var y = ReplicatePad2dFunction.Forward(x, 1, 0, 2, 1);
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 3, 6 }));
        Assert.That(y.ToDoubleArray(), Is.EqualTo(new double[]
        {
            1, 1, 1, 2, 3, 3,
            1, 1, 1, 2, 3, 3,
            4, 4, 4, 5, 6, 6,
        }));
    }

    [Test]
    public void BlockUnfoldOrdersBlocksRowMajor()
    {
        var v = Enumerable.Range(0, 2 * 4 * 4).Select(i => (double)i).ToArray();
        var y = BlockUnfoldFunction.Forward(Tensor.FromArray(v, [2, 4, 4]), 2);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 2, 2, 2, 2 }));
        var r = y.ToDoubleArray();
        // Plane 0, block (0, 1): rows 0–1, columns 2–3 → 2, 3, 6, 7. Plane 1, block (1, 0): 24, 25, 28, 29.
        Assert.That(r[4..8], Is.EqualTo(new double[] { 2, 3, 6, 7 }));
        Assert.That(r[24..28], Is.EqualTo(new double[] { 24, 25, 28, 29 }));
        Assert.Throws<ArgumentException>(() => BlockUnfoldFunction.Forward(Tensor.FromArray(v[..12], [3, 4]), 8));
    }

    [Test]
    public void TrigonometryMatchesMath()
    {
        var a = Tensor.FromArray([0.5, -1.0, 0.0, 2.0], [4]);
        var b = Tensor.FromArray([-0.5, -1.0, 1.0, 0.0], [4]);
        Assert.That(Atan2Function.Forward(a, b).ToDoubleArray(), Is.EqualTo(new[] { Math.Atan2(0.5, -0.5), Math.Atan2(-1, -1), 0, Math.PI / 2 }));
        Assert.That(CosFunction.Forward(a).ToDoubleArray(), Is.EqualTo(new[] { Math.Cos(0.5), Math.Cos(-1.0), 1, Math.Cos(2.0) }));
        Assert.That(AcosFunction.Forward(b).ToDoubleArray(), Is.EqualTo(new[] { Math.Acos(-0.5), Math.PI, 0, Math.PI / 2 }));
        Assert.Throws<ArgumentException>(() => Atan2Function.Forward(a, Tensor.FromArray([1.0, 2], [2])));
    }
}
