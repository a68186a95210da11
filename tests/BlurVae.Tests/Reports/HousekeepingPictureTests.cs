using static BlurVae.Tests.Reports.ReportTestFiles;

namespace BlurVae.Tests.Reports;

/// <summary>The picture items of issue 12: bounded kernel figure, wrapped reconstruct grid, JPEG output, plots of negative losses, temp-file cleanup.</summary>
[TestFixture, Category("Reports")]
public class HousekeepingPictureTests
{
    [Test]
    public void KernelFigureShowsABoundedSampleOfEpochs()
    {
        Assert.That(BlurKernelGrid.SampleEpochs(5), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        var shown = BlurKernelGrid.SampleEpochs(500);
        Assert.That(shown, Has.Count.LessThanOrEqualTo(BlurKernelGrid.MaxEpochRows));
        Assert.That(shown[0], Is.EqualTo(1));
        Assert.That(shown[^1], Is.EqualTo(500));
        Assert.That(shown, Is.Ordered.Ascending.And.Unique);
    }

    [Test]
    public void PairsWrapIntoBandsOfColumns()
    {
        using var files = new ReportTestFiles(nameof(PairsWrapIntoBandsOfColumns));
        var path = files.PathOf("pairs.png");
        ImageGrid.SavePairs(path, Tensor.Full([5, 1, 4, 4], -1.0), Tensor.Full([5, 1, 4, 4], 1.0), columns: 2, ("in", "out"), gap: 1);
        using var bmp = Decode(path);
        // Three bands (2 + 2 + 1 images) of two rows each: 6 rows of 4 px with 1-px gaps.
        Assert.That(bmp.Height, Is.EqualTo(1 + 6 * (4 + 1)));
    }

    [Test]
    public void SamplesAreJpegForJpgAndRefusedForOtherExtensions()
    {
        using var files = new ReportTestFiles(nameof(SamplesAreJpegForJpgAndRefusedForOtherExtensions));
        var images = Tensor.Full([3, 3, 8, 8], 0.25);
        ImageGrid.SaveSamples(files.PathOf("s.jpeg"), images, columns: 2);
        Assert.That(File.ReadAllBytes(files.PathOf("s.jpeg"))[..2], Is.EqualTo(new byte[] { 0xFF, 0xD8 }));
        ImageGrid.SaveSamples(files.PathOf("s.png"), images, columns: 2);
        Assert.That(File.ReadAllBytes(files.PathOf("s.png"))[1..4], Is.EqualTo("PNG"u8.ToArray()));
        Assert.That(() => ImageGrid.SaveSamples(files.PathOf("s.bmp"), images, columns: 2), Throws.ArgumentException.With.Message.Contains(".bmp"));
        Assert.That(File.Exists(files.PathOf("s.bmp")), Is.False);
    }

    [Test]
    public void NegativeLossesPlotOnALinearAxisWithAWarmupMarker()
    {
        using var files = new ReportTestFiles(nameof(NegativeLossesPlotOnALinearAxisWithAWarmupMarker));
        var path = files.PathOf("loss.png");
        LossPlot.Save(path, [new PlotSeries("train", [(1, 40), (2, -120), (3, -300)]), new PlotSeries("kl", [(1, 0.1), (2, 0.3), (3, 0.4)])],
            markers: [new PlotMarker(1.5, "Wiener term from epoch 2")], width: 500, height: 300);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((500, 300)));
        Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [(1, 1)])], markers: [new PlotMarker(double.NaN, "m")]), Throws.ArgumentException.With.Message.Contains("'m'"));
    }

    [Test]
    public void StaleTemporaryFilesOfTheAtomicWriterAreRemoved()
    {
        using var files = new ReportTestFiles(nameof(StaleTemporaryFilesOfTheAtomicWriterAreRemoved));
        string ours = files.PathOf($".checkpoint.safetensors.{Guid.NewGuid():N}.tmp");
        string other = files.PathOf(".checkpoint.safetensors.not-a-guid.tmp");
        string kept = files.PathOf("checkpoint.safetensors");
        Directory.CreateDirectory(files.Directory);
        foreach (var f in new[] { ours, other, kept }) File.WriteAllText(f, "x");
        Assert.That(AtomicFile.RemoveStaleTemporaries(files.Directory), Is.EqualTo(new[] { Path.GetFileName(ours) }));
        Assert.That(File.Exists(ours), Is.False);
        Assert.That(File.Exists(other) && File.Exists(kept), Is.True);
        Assert.That(AtomicFile.RemoveStaleTemporaries(files.PathOf("missing")), Is.Empty);
    }
}
