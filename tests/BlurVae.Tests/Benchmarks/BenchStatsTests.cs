namespace BlurVae.Tests.Benchmarks;

/// <summary>The statistics of a measurement (percentiles, spread, per-repeat bookkeeping, peak memory parsing);
/// the inputs are made-up timings, no timing is asserted.</summary>
[TestFixture, Category("Benchmarks")]
public class BenchStatsTests
{
    [Test]
    public void QuantilesInterpolateLinearlyLikeNumpy()
    {
        double[] v = [7, 1, 3, 5, 9];   // sorted 1 3 5 7 9
        Assert.Multiple(() =>
        {
            Assert.That(Stats.Quantile(v, 0.5), Is.EqualTo(5));
            Assert.That(Stats.Quantile(v, 0.1), Is.EqualTo(1.8).Within(1e-12));
            Assert.That(Stats.Quantile(v, 0.9), Is.EqualTo(8.2).Within(1e-12));
            Assert.That(Stats.Quantile(v, 0), Is.EqualTo(1));
            Assert.That(Stats.Quantile(v, 1), Is.EqualTo(9));
            Assert.That(Stats.Quantile([4.0], 0.9), Is.EqualTo(4));
        });
        Assert.Throws<InvalidOperationException>(() => Stats.Quantile([], 0.5));
    }

    [Test]
    public void TheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo()
    {
        // The micro-benchmarks of bench/BlurVae.Bench report this median too.
        Assert.That(Stats.Median([4.0, 1, 3, 2]), Is.EqualTo(2.5));
        Assert.That(Stats.Median([3.0, 1, 2]), Is.EqualTo(2));
    }

    [Test]
    public void RepeatsPoolTheirStepsAndKeepTheLargestPeak()
    {
        var m = new Measurement("blurvae", "cpu", 2);
        m.AddRepeat([10, 30, 20], 100);
        m.AddRepeat([40, 50], null);
        m.AddRepeat([60], 80);
        Assert.Multiple(() =>
        {
            Assert.That(m.StepMs, Is.EqualTo(new[] { 10.0, 30, 20, 40, 50, 60 }));
            Assert.That(m.RepeatMs, Is.EqualTo(new[] { 20.0, 45, 60 }));
            Assert.That(m.Median, Is.EqualTo(35), "over all steps, not over the repeat means");
            Assert.That(m.P10, Is.EqualTo(15).Within(1e-12));
            Assert.That(m.P90, Is.EqualTo(55).Within(1e-12));
            Assert.That(m.Spread, Is.EqualTo(55.0 / 15).Within(1e-12));
            Assert.That(m.PeakWorkingSetMib, Is.EqualTo(100));
        });
        var unknown = new Measurement("pytorch", "cpu", 2);
        unknown.AddRepeat([1], null);
        Assert.That(unknown.PeakWorkingSetMib, Is.Null);
    }

    [Test]
    public void PeakMemoryReadsProcStatusLines()
    {
        Assert.That(PeakMemory.ParseKib("VmHWM:\t  123456 kB"), Is.EqualTo(123456));
        Assert.That(PeakMemory.ParseKib("VmHWM:"), Is.Null);
        Assert.That(PeakMemory.ParseKib("VmHWM: lots kB"), Is.Null);
        if (!OperatingSystem.IsLinux()) return;
        Assert.That(PeakMemory.Reset(), Is.True);
        var big = new byte[64 << 20];
        Array.Fill(big, (byte)1);   // touch it: 64 MiB more resident
        double? peak = PeakMemory.ReadMib();
        Assert.That(peak, Is.GreaterThan(64));
        GC.KeepAlive(big);
    }
}
