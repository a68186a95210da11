using static BlurVae.Tests.Losses.WatsonDft.WatsonDftImages;

namespace BlurVae.Tests.Losses.WatsonDft;

[TestFixture, Category("Losses")]
public class WatsonDftValueTests
{
    private static double NaiveMean(Tensor x, Tensor xHat, WatsonDftLoss loss, (int, int)? shift) =>
        WatsonDftNaive.PerSample(ToNested(x), ToNested(xHat), loss.GrayscaleParameters, loss.ColorParameters, shift).Average();

    // The shift the loss draws first from `new Random(seed)`: the row offset, then the column offset.
    private static (int, int) FirstShift(int seed)
    {
        var rng = new Random(seed);
        int dy = rng.Next(8);
        return (dy, rng.Next(8));
    }

    [TestCase(1, 8, 16, false, TestName = "Grayscale 2×1×8×16, learned")]
    [TestCase(3, 16, 8, false, TestName = "Colour 2×3×16×8, learned")]
    [TestCase(1, 16, 16, true, TestName = "Grayscale 2×1×16×16, untrained")]
    [TestCase(3, 8, 8, true, TestName = "Colour 2×3×8×8, untrained")]
    public void DeterministicMatchesTheLoopByLoopReference(int c, int h, int w, bool untrained)
    {
        var x = Random(1, 2, c, h, w);
        var xHat = Random(2, 2, c, h, w);
        var loss = untrained ? WatsonDftLoss.Untrained(c == 1, randomShift: false) : WatsonDftLoss.ForChannels(c, randomShift: false);
        double expected = NaiveMean(x, xHat, loss, null);
        Assert.That(loss.Compute(x, xHat).Item(), Is.EqualTo(expected).Within(1e-10).Percent);
    }

    [TestCase(1, 7), TestCase(3, 11), TestCase(1, 2024)]
    public void ShiftedMatchesTheLoopByLoopReference(int c, int seed)
    {
        var x = Structured(seed, 2, c, 16, 16);
        var xHat = Random(seed + 1, 2, c, 16, 16);
        var loss = WatsonDftLoss.ForChannels(c, randomShift: true, seed: seed);
        double expected = NaiveMean(x, xHat, loss, FirstShift(seed));
        Assert.That(loss.Compute(x, xHat).Item(), Is.EqualTo(expected).Within(1e-10).Percent);
    }

    [Test]
    public void IdenticalImagesGiveOnlyTheEpsilonFloor()
    {
        // With x̂ = x every amplitude difference and phase difference is exactly 0, so all that is left is
        // (K·40·(ε^β + ε))^(1/β) from the pooling and K·acos(1 − 10⁻⁷)·Σ w_φ from the phase term, per channel.
        var x = Structured(3, 2, 1, 16, 24);
        var gray = WatsonParameters.LoadGrayscale();
        const double eps = 1e-10;
        int k = 2 * 3;
        double floor = Math.Pow(k * 40 * (Math.Pow(eps, gray.Beta) + eps), 1 / gray.Beta)
                       + k * Math.Acos(1 - 1e-7) * gray.PhaseWeights().Sum();
        double value = WatsonDftLoss.Grayscale(randomShift: false).Compute(x, x).Item();
        Assert.That(value, Is.EqualTo(floor).Within(1e-9).Percent);
        Assert.That(value, Is.LessThan(1e-3));

        var rgb = Structured(4, 2, 3, 16, 16);
        Assert.That(WatsonDftLoss.Color(randomShift: true, seed: 1).Compute(rgb, rgb).Item(), Is.LessThan(1e-2));
        Assert.That(WatsonDftLoss.Color(randomShift: false).Compute(rgb, Random(5, 2, 3, 16, 16)).Item(), Is.GreaterThan(10));
    }

    [Test]
    public void ReductionIsTheBatchMeanOfThePerImageDistances()
    {
        var x = Random(6, 3, 3, 16, 16);
        var xHat = Random(7, 3, 3, 16, 16);
        var loss = WatsonDftLoss.Color(randomShift: false);
        var perSample = loss.PerSampleDistances(x, xHat).ToDoubleArray();
        Assert.That(perSample, Has.Length.EqualTo(3));
        Assert.That(perSample.Distinct().Count(), Is.EqualTo(3));
        // The reference's reduction='sum' is N times this.
        Assert.That(loss.Compute(x, xHat).Item(), Is.EqualTo(perSample.Average()).Within(1e-12).Percent);
    }

    [Test]
    public void Float32AgreesWithFloat64()
    {
        var x = Structured(8, 2, 3, 16, 16);
        var xHat = Random(9, 2, 3, 16, 16);
        var loss = WatsonDftLoss.Color(randomShift: false);
        double f64 = loss.Compute(x, xHat).Item();
        var y = loss.Compute(x.To(DType.Float32), xHat.To(DType.Float32));
        Assert.That(y.DType, Is.EqualTo(DType.Float32));
        Assert.That(y.Item(), Is.EqualTo(f64).Within(1e-3).Percent);
    }

    [Test]
    public void SeededShiftsRepeatAndTheDeterministicVariantDoesNotMove()
    {
        var x = Structured(10, 2, 1, 16, 16);
        var xHat = BoxBlur(x);
        var a = WatsonDftLoss.Grayscale(randomShift: true, seed: 42);
        var b = WatsonDftLoss.Grayscale(randomShift: true, seed: 42);
        var valuesA = Enumerable.Range(0, 6).Select(_ => a.Compute(x, xHat).Item()).ToArray();
        var valuesB = Enumerable.Range(0, 6).Select(_ => b.Compute(x, xHat).Item()).ToArray();
        Assert.That(valuesA, Is.EqualTo(valuesB));
        Assert.That(valuesA.Distinct().Count(), Is.GreaterThan(1), "different shifts give different values");

        var fixedLoss = WatsonDftLoss.Grayscale(randomShift: false);
        Assert.That(fixedLoss.RandomShift, Is.False);
        Assert.That(a.RandomShift, Is.True);
        double first = fixedLoss.Compute(x, xHat).Item();
        Assert.That(fixedLoss.Compute(x, xHat).Item(), Is.EqualTo(first));
    }

    [TestCase(1), TestCase(3)]
    public void LossGrowsWithNoiseAndWithBlur(int c)
    {
        var x = Structured(12, 2, c, 32, 32);
        var loss = WatsonDftLoss.ForChannels(c, randomShift: false);
        double small = loss.Compute(x, WithNoiseOfMse(x, 1e-4, 1)).Item();
        double large = loss.Compute(x, WithNoiseOfMse(x, 1e-2, 1)).Item();
        Assert.That(small, Is.LessThan(large));
        var blur1 = BoxBlur(x);
        double once = loss.Compute(x, blur1).Item();
        double twice = loss.Compute(x, BoxBlur(blur1)).Item();
        Assert.That(once, Is.LessThan(twice));
        Assert.That(loss.Compute(x, x).Item(), Is.LessThan(small));
    }

    [Test]
    public void AGradientStepOnTheReconstructionLowersTheLoss()
    {
        var x = Structured(13, 2, 3, 16, 16);
        var xHat = BoxBlur(x);
        xHat.RequiresGrad = true;
        var loss = WatsonDftLoss.Color(randomShift: false);
        var value = loss.Compute(x, xHat);
        value.Backward();
        var grad = xHat.Grad!.ToDoubleArray();
        double norm = Math.Sqrt(grad.Sum(g => g * g));
        Assert.That(norm, Is.GreaterThan(0));
        var v = xHat.ToDoubleArray();
        for (int i = 0; i < v.Length; i++) v[i] -= 1e-3 * grad[i] / norm;
        var stepped = Tensor.FromArray(v, xHat.Shape);
        Assert.That(loss.Compute(x, stepped).Item(), Is.LessThan(value.Item()));
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void GradientsStayFiniteOnIdenticalAndFlatImages(DType dtype)
    {
        // x̂ = x makes every amplitude and phase difference exactly 0 (the kinks of |·| and acos' steep slope); flat
        // black images make every AC coefficient 0, so only the ε terms keep the amplitudes and phases defined.
        var structured = Structured(14, 2, 3, 16, 16).To(dtype);
        var black = Tensor.Full([2, 3, 16, 16], -1.0, dtype);
        foreach (var (x, xHat) in new[] { (structured, structured.Clone()), (black, black.Clone()), (black, Tensor.Full([2, 3, 16, 16], -0.9, dtype)) })
        {
            xHat.RequiresGrad = true;
            var value = WatsonDftLoss.Color(randomShift: false).Compute(x, xHat);
            value.Backward();
            Assert.That(double.IsFinite(value.Item()), Is.True);
            Assert.That(xHat.Grad!.ToDoubleArray(), Is.All.Matches<double>(double.IsFinite));
        }
    }

    [Test]
    public void FactoriesPickTheModels()
    {
        Assert.Multiple(() =>
        {
            Assert.That(WatsonDftLoss.ForChannels(1).Channels, Is.EqualTo(1));
            Assert.That(WatsonDftLoss.ForChannels(3).Channels, Is.EqualTo(3));
            Assert.That(WatsonDftLoss.Grayscale().RandomShift, Is.True, "the reference's default shifts");
            Assert.That(WatsonDftLoss.Untrained(grayscale: true).GrayscaleParameters!.Beta, Is.EqualTo(1.0));
            Assert.That(WatsonDftLoss.Untrained(grayscale: false).ColorParameters!.Y.Alpha, Is.EqualTo(0.1));
            Assert.That(WatsonDftLoss.Color().Name, Is.EqualTo("watson-dft"));
            Assert.That(WatsonDftLoss.Grayscale(), Is.InstanceOf<IReconstructionLoss>());
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => WatsonDftLoss.ForChannels(2));
    }

    [Test]
    public void BadInputsAreNamed()
    {
        var gray = WatsonDftLoss.Grayscale(randomShift: false);
        var color = WatsonDftLoss.Color(randomShift: false);
        var e1 = Assert.Throws<ArgumentException>(() => gray.Compute(Random(1, 1, 3, 8, 8), Random(2, 1, 3, 8, 8)))!;
        Assert.That(e1.Message, Does.Contain("C = 1").And.Contain("ForChannels(3)"));
        var e2 = Assert.Throws<ArgumentException>(() => color.Compute(Random(1, 1, 3, 12, 8), Random(2, 1, 3, 12, 8)))!;
        Assert.That(e2.Message, Does.Contain("multiples of 8").And.Contain("[1, 3, 12, 8]"));
        var e3 = Assert.Throws<ArgumentException>(() => gray.Compute(Random(1, 2, 1, 8, 8), Random(2, 1, 1, 8, 8)))!;
        Assert.That(e3.ParamName, Is.EqualTo("xHat"));
        var e4 = Assert.Throws<ArgumentException>(() => gray.Compute(Random(1, 1, 1, 8, 8).Reshape(1, 8, 8), Random(2, 1, 1, 8, 8).Reshape(1, 8, 8)))!;
        Assert.That(e4.Message, Does.Contain("[N, C, H, W]"));
        var e5 = Assert.Throws<ArgumentException>(() => gray.Compute(Random(1, 1, 1, 8, 8), Random(2, 1, 1, 8, 8, DType.Float32)))!;
        Assert.That(e5.Message, Does.Contain("Float32"));
    }
}
