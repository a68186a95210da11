
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class KernelWidthTests
{
    private static Tensor Kernel(int k, params (int U, int V, double W)[] taps)
    {
        var v = new double[k * k];
        foreach (var (u, vv, w) in taps) v[u * k + vv] = w;
        return Tensor.FromArray(v, [k, k]);
    }

    [Test]
    public void DeltaHasWidthZero()
    {
        Assert.That(KernelWidth.PerKernel(Kernel(5, (2, 2, 1.0)))[0], Is.EqualTo(0.0));
        // Off-centre: zero around its own centroid, but √(1² + 2²) from the grid centre.
        var shifted = Kernel(5, (1, 4, 1.0));
        Assert.That(KernelWidth.PerKernel(shifted)[0], Is.EqualTo(0.0).Within(1e-15));
        Assert.That(KernelWidth.PerKernel(shifted, KernelCentre.GridCentre)[0], Is.EqualTo(Math.Sqrt(5)).Within(1e-15));
    }

    [Test]
    public void KnownThreeByThreeKernels()
    {
        // Cross: ½ in the middle, ⅛ at each 4-neighbour (distance 1): √(4·⅛·1) = √½.
        var cross = Kernel(3, (1, 1, 0.5), (0, 1, 0.125), (2, 1, 0.125), (1, 0, 0.125), (1, 2, 0.125));
        Assert.That(KernelWidth.PerKernel(cross)[0], Is.EqualTo(Math.Sqrt(0.5)).Within(1e-15));
        // Box: 4 neighbours at distance² 1 and 4 corners at 2, each 1/9: √(12/9).
        var box = Tensor.Full([3, 3], 1.0 / 9, DType.Float64);
        Assert.That(KernelWidth.PerKernel(box)[0], Is.EqualTo(Math.Sqrt(12.0 / 9)).Within(1e-15));
        // Two taps side by side: centroid halfway, each ½ away → ½; from the grid centre: √(½·0 + ½·1) = √½.
        var pair = Kernel(3, (1, 1, 0.5), (1, 2, 0.5));
        Assert.That(KernelWidth.PerKernel(pair)[0], Is.EqualTo(0.5).Within(1e-15));
        Assert.That(KernelWidth.PerKernel(pair, KernelCentre.GridCentre)[0], Is.EqualTo(Math.Sqrt(0.5)).Within(1e-15));
    }

    [Test]
    public void BatchMeanAndStdAndAcceptedShapes()
    {
        // [delta, box] → widths 0 and √(4/3): mean √(4/3)/2, population std the same.
        var v = new double[18];
        v[4] = 1;
        for (int i = 9; i < 18; i++) v[i] = 1.0 / 9;
        double wBox = Math.Sqrt(4.0 / 3);
        var stats = KernelWidth.Compute(Tensor.FromArray(v, [2, 3, 3]));
        Assert.That(stats.Mean, Is.EqualTo(wBox / 2).Within(1e-15));
        Assert.That(stats.Std, Is.EqualTo(wBox / 2).Within(1e-15));
        Assert.That(KernelWidth.PerKernel(Tensor.FromArray(v, [2, 1, 3, 3])), Is.EqualTo(new[] { 0.0, wBox }).Within(1e-15));
        Assert.That(KernelWidth.PerKernel(Tensor.FromArray(v, [2, 3, 3]).To(DType.Float32))[1], Is.EqualTo(wBox).Within(1e-6));
    }

    [Test]
    public void KernelsAreNormalisedToUnitSumFirst()
    {
        var cross = Kernel(3, (1, 1, 4.0), (0, 1, 1.0), (2, 1, 1.0), (1, 0, 1.0), (1, 2, 1.0));
        Assert.That(KernelWidth.PerKernel(cross)[0], Is.EqualTo(Math.Sqrt(0.5)).Within(1e-15));
    }

    [Test]
    public void InvalidKernelsThrow()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => KernelWidth.PerKernel(Kernel(3, (1, 1, 1.0), (0, 0, -0.1))), Throws.ArgumentException.With.Message.Contains("non-negative"));
            Assert.That(() => KernelWidth.PerKernel(Tensor.Zeros([2, 3, 3])), Throws.ArgumentException.With.Message.Contains("all zeros"));
            Assert.That(() => KernelWidth.PerKernel(Tensor.Zeros([2, 2, 3, 3])), Throws.ArgumentException.With.Message.Contains("[N, kh, kw]"));
            Assert.That(() => KernelWidth.PerKernel(Kernel(3, (1, 1, double.NaN))), Throws.ArgumentException.With.Message.Contains("finite"));
        });
    }
}
