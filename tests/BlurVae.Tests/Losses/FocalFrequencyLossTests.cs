using System.Numerics;
using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

[TestFixture, Category("Losses")]
public class FocalFrequencyLossTests
{
    [TestCase(3, 1, 7, 9, 1.0), TestCase(3, 3, 8, 8, 1.0), TestCase(2, 2, 6, 5, 2.0), TestCase(2, 1, 4, 6, 0.0)]
    public void MatchesTheReferenceAlgorithmOnTheFullSpectrum(int n, int c, int h, int w, double alpha)
    {
        var x = Uniform(1, -1, 1, n, c, h, w);
        var xHat = Uniform(2, -1, 1, n, c, h, w);
        var (expected, _) = Reference(x, xHat, alpha, null);
        Assert.That(FocalFrequencyLoss.Compute(x, xHat, alpha).Item(), Is.EqualTo(expected).Within(1e-12 * Math.Max(1, expected)));
    }

    [Test]
    public void AnExactChannelGetsZeroWeightsInsteadOfNaN()
    {
        // Channel 0 reconstructed exactly: its weights are 0/0, which the reference sets to 0.
        var x = Uniform(3, -1, 1, 2, 2, 5, 6);
        var xv = x.ToDoubleArray();
        var xh = Uniform(4, -1, 1, 2, 2, 5, 6).ToDoubleArray();
        for (int i = 0; i < 2; i++) Array.Copy(xv, i * 60, xh, i * 60, 30);
        var xHat = Tensor.FromArray(xh, [2, 2, 5, 6]);
        double loss = FocalFrequencyLoss.Compute(x, xHat).Item();
        Assert.That(double.IsFinite(loss));
        Assert.That(loss, Is.EqualTo(Reference(x, xHat, 1.0, null).Loss).Within(1e-12));
        Assert.That(FocalFrequencyLoss.Compute(x, x).Item(), Is.EqualTo(0));
    }

    [Test]
    public void PredefinedMatrixIsFoldedOntoTheHalfSpectrum()
    {
        // An arbitrary (not conjugate-symmetric) matrix: the half spectrum must carry w_f + w_−f on interior columns.
        foreach (var (h, w) in new[] { (7, 9), (6, 8) })
        {
            var x = Uniform(5, -1, 1, 3, 2, h, w);
            var xHat = Uniform(6, -1, 1, 3, 2, h, w);
            var matrix = Uniform(7, 0, 1, 3, 2, h, w);
            double expected = Reference(x, xHat, 1.0, matrix.ToDoubleArray()).Loss;
            Assert.That(FocalFrequencyLoss.Compute(x, xHat, matrix: matrix).Item(), Is.EqualTo(expected).Within(1e-12), $"{h}x{w}");
        }
    }

    [Test]
    public void GradientTreatsTheWeightAsAConstant()
    {
        // With w detached, dL/dx̂ = (2/M)·Re(IDFT_ortho(w ⊙ ΔF)), M = N·C·H·W.
        int n = 2, c = 2, h = 5, w = 6;
        var x = Uniform(8, -1, 1, n, c, h, w);
        var xHat = Uniform(9, -1, 1, n, c, h, w);
        xHat.RequiresGrad = true;
        FocalFrequencyLoss.Compute(x, xHat).Backward();
        var (_, planes) = Reference(x, xHat.Detach(), 1.0, null);
        var expected = new double[n * c * h * w];
        for (int p = 0; p < n * c; p++)
        {
            var (delta, weight) = planes[p];
            var weighted = delta.Select((d, f) => d * weight[f]).ToArray();
            var back = InverseDft(weighted, h, w, 1 / Math.Sqrt(h * w));
            for (int i = 0; i < h * w; i++) expected[p * h * w + i] = 2.0 / (n * c * h * w) * back[i].Real;
        }
        AssertClose(xHat.Grad!.ToDoubleArray(), expected, 1e-13, "dFFL/dx̂");
    }

    [Test]
    public void RejectsBadArguments()
    {
        var x = Uniform(10, -1, 1, 2, 1, 6, 6);
        Assert.That(() => FocalFrequencyLoss.Compute(x, Uniform(10, -1, 1, 2, 1, 6, 5)), Throws.ArgumentException.With.Message.Contains("FocalFrequencyLoss"));
        Assert.That(() => FocalFrequencyLoss.Compute(x, x, alpha: -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("alpha"));
        Assert.That(() => FocalFrequencyLoss.Compute(x, x, matrix: Uniform(11, 0, 1, 2, 1, 6, 4)), Throws.ArgumentException.With.Message.Contains("matrix"));
        Assert.That(() => FocalFrequencyLoss.Compute(x, x, matrix: Uniform(11, 0.5, 1.5, 2, 1, 6, 6)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 1]"));
    }

    // The reference: full orthonormal DFT of x̂ − x per plane, w = |ΔF|^α / max (NaN → 0, clamp to [0, 1]) or the given
    // matrix, loss = mean(w·|ΔF|²). Also returns each plane's ΔF and w.
    private static (double Loss, List<(Complex[] Delta, double[] Weight)> Planes) Reference(Tensor x, Tensor xHat, double alpha, double[]? matrix)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], hw = h * w;
        var (a, b) = (x.ToDoubleArray(), xHat.ToDoubleArray());
        var planes = new List<(Complex[], double[])>();
        double total = 0;
        for (int p = 0; p < n * c; p++)
        {
            var diff = new double[hw];
            for (int i = 0; i < hw; i++) diff[i] = b[p * hw + i] - a[p * hw + i];
            var delta = Dft(diff, h, w, 1 / Math.Sqrt(hw));
            double[] weight;
            if (matrix is not null) weight = matrix.AsSpan(p * hw, hw).ToArray();
            else
            {
                weight = delta.Select(d => Math.Pow(d.Magnitude, alpha)).ToArray();
                double max = weight.Max();
                weight = weight.Select(v => double.IsNaN(v / max) ? 0 : Math.Clamp(v / max, 0, 1)).ToArray();
            }
            for (int f = 0; f < hw; f++) total += weight[f] * delta[f].Magnitude * delta[f].Magnitude;
            planes.Add((delta, weight));
        }
        return (total / (n * c * hw), planes);
    }
}
