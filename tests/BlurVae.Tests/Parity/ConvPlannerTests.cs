
namespace BlurVae.Tests.Parity;

/// <summary>The convolution algorithm choice (ConvPlanner) and its launch geometry, without running kernels.</summary>
[TestFixture, Category("Parity")]
public class ConvPlannerTests
{
    /// <summary>celeba64's convolutions (batch 64, 3×64×64, architecture A [64,128,256,512]) as (name, geometry).</summary>
    public static IEnumerable<(string Name, ConvGeometry G)> Celeba64()
    {
        int[] ch = [3, 64, 128, 256, 512];
        for (int i = 0; i < 4; i++) // encoder Conv2d(k3, s2, p1)
            yield return ($"enc{i} {ch[i]}->{ch[i + 1]}", ConvGeometry.ForConv(64, ch[i], 64 >> i, 64 >> i, ch[i + 1], 3, 3, 2, 1));
        int[] dec = [512, 256, 128, 64, 64];
        for (int i = 0; i < 4; i++) // decoder ConvTranspose2d(k4, s2, p1): the conv geometry runs from its output back to its input
            yield return ($"dec{i} {dec[i]}->{dec[i + 1]} (T)", ConvGeometry.ForTransposed(64, dec[i], 4 << i, 4 << i, dec[i + 1], 4, 4, 2, 1, 0));
        yield return ("head 64->3", ConvGeometry.ForConv(64, 64, 64, 64, 3, 3, 3, 1, 1));
    }

    [Test]
    public void EveryCeleba64LaunchFillsTwoWavesOrSplitsK()
    {
        const int sms = ConvPlanner.DefaultSmCount;
        foreach (var (name, g) in Celeba64())
            foreach (var pass in Enum.GetValues<ConvPass>())
                foreach (var math in new[] { MathPrecision.Tf32, MathPrecision.Fp32 })
                {
                    var a = ConvPlanner.Heuristic(pass, g, math, sms);
                    var (grid, threads, splits, kPerSplit) = GpuDevice.ConvLaunch(pass, g, a);
                    long blocks = (long)grid.X * grid.Y * grid.Z;
                    var (m, p, k, phases) = ConvShapes.Gemm(pass, g);
                    if (math == MathPrecision.Tf32)
                        TestContext.Out.WriteLine($"{name,-22} {pass,-14} M={m,4} P={p,7} K={k,6} x{phases}: {a,-24} grid {grid.X}x{grid.Y}x{grid.Z} = {blocks,5} blocks" +
                                                  $"{(splits > 1 ? $" (split-K {splits})" : "")}, {2.0 * ConvShapes.MultiplyAdds(g) / 1e9:F2} GFLOP");
                    Assert.That(blocks >= 2 * sms || splits > 1 || (long)k <= MinKForSplit(math), Is.True,
                        $"{name} {pass} {a}: {blocks} blocks, K = {k}");
                    Assert.That(kPerSplit % ConvShapes.TileK(math), Is.Zero);
                    Assert.That((long)splits * kPerSplit, Is.GreaterThanOrEqualTo(k));
                    Assert.That(threads, Is.EqualTo(math == MathPrecision.Tf32 && a.Tile == ConvTile.Large ? 256 : 128));
                }
    }

    // A pass whose K is shorter than two split slices cannot split; it is short by construction.
    private static long MinKForSplit(MathPrecision math) => 2L * ConvPlanner.MinStepsPerSplit * ConvShapes.TileK(math) - 1;

    [Test]
    public void ThinAndSmallShapesGetTheirTiles()
    {
        var head = ConvGeometry.ForConv(64, 64, 64, 64, 3, 3, 3, 1, 1);
        Assert.That(ConvPlanner.Heuristic(ConvPass.Forward, head, MathPrecision.Tf32, 132).Tile, Is.EqualTo(ConvTile.ThinM));
        var first = ConvGeometry.ForConv(64, 3, 64, 64, 64, 3, 3, 2, 1);
        var dw = ConvPlanner.Heuristic(ConvPass.BackwardWeight, first, MathPrecision.Tf32, 132);
        Assert.That(dw.Tile, Is.EqualTo(ConvTile.Small), "P = Cin·k² = 27");
        Assert.That(dw.Splits, Is.GreaterThan(1), "K = N·OH·OW = 65536 over a 1-block output grid");
        var big = ConvGeometry.ForConv(64, 128, 32, 32, 256, 3, 3, 1, 1); // 4 × 1024 output tiles: no split
        Assert.That(ConvPlanner.Heuristic(ConvPass.Forward, big, MathPrecision.Fp32, 132), Is.EqualTo(new ConvAlgorithm(ConvTile.Large, MathPrecision.Fp32, 1)));
    }

    [Test]
    public void CandidatesStartWithTheHeuristicAndAreDistinct()
    {
        var g = ConvGeometry.ForConv(64, 256, 8, 8, 512, 3, 3, 2, 1);
        foreach (var pass in Enum.GetValues<ConvPass>())
        {
            var c = ConvPlanner.Candidates(pass, g, MathPrecision.Tf32, 132);
            Assert.That(c[0], Is.EqualTo(ConvPlanner.Heuristic(pass, g, MathPrecision.Tf32, 132)));
            Assert.That(c, Is.Unique);
            Assert.That(c.Select(a => a.Tile).Distinct().Count(), Is.EqualTo(3));
        }
    }

    [Test]
    public void EachShapeIsPlannedOnceAndLoggedWithItsGeometry()
    {
        using var device = new EmulatedDevice();
        var lines = new List<string>();
        device.PlanLog = lines.Add;
        device.Precision = MathPrecision.Tf32;
        var g = ConvGeometry.ForConv(1, 3, 6, 6, 4, 3, 3, 2, 1);
        using var y = device.Allocate(g.OutputLength);
        using var x = device.Allocate(g.InputLength);
        using var w = device.Allocate(g.WeightLength);
        device.Conv2dForward(y, x, w, null, g);
        device.Conv2dForward(y, x, w, null, g);
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Contain("conv2d forward").And.Contain("tf32").And.Contain("heuristic").And.Contain("blocks"));
        device.Precision = MathPrecision.Fp32; // another precision is another plan
        device.Conv2dForward(y, x, w, null, g);
        Assert.That(lines, Has.Count.EqualTo(2));
        Assert.That(lines[1], Does.Contain("fp32"));
    }
}
