using static BlurVae.Tests.Reports.ReportTestFiles;

namespace BlurVae.Tests.Reports;

[TestFixture, Category("Reports")]
public class LossPlotTests
{
    private static IReadOnlyList<(double X, double Y)> Curve(double start, double rate, int count) =>
        Enumerable.Range(1, count).Select(e => ((double)e, start * Math.Exp(-rate * e) + 0.01)).ToList();

    [TestCase(false, 640, 480), TestCase(true, 900, 400)]
    public void WritesAPngOfTheRequestedSize(bool logY, int width, int height)
    {
        using var files = new ReportTestFiles(nameof(WritesAPngOfTheRequestedSize) + (logY ? "Log" : "Linear"));
        var path = files.PathOf("plots/loss.png");
        var series = new Dictionary<string, IReadOnlyList<(double X, double Y)>>
        {
            ["train"] = Curve(10, 0.2, 30),
            ["validation"] = Curve(12, 0.15, 30),
        };
        LossPlot.Save(path, series, xLabel: "epoch", yLabel: "negative ELBO", title: "blur-VAE", logY: logY, width: width, height: height);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((width, height)));
        // Not blank: the lines and text put several distinct colours on the white figure.
        var colours = new HashSet<uint>();
        for (int y = 0; y < height; y += 2)
            for (int x = 0; x < width; x += 2) colours.Add((uint)bmp.GetPixel(x, y));
        Assert.That(colours, Has.Count.GreaterThan(10));
    }

    [Test]
    public void NarrowLogRangeAndSinglePointsStillPlot()
    {
        using var files = new ReportTestFiles(nameof(NarrowLogRangeAndSinglePointsStillPlot));
        var path = files.PathOf("narrow.png");
        LossPlot.Save(path, [new PlotSeries("kernel loss", [(0, 0.5), (1, 0.4), (2, 0.35)]), new PlotSeries("one", [(1, 0.45)])], xLabel: "step", logY: true, width: 400, height: 300);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((400, 300)));
    }

    [Test]
    public void BadArgumentsThrowClearly()
    {
        using var files = new ReportTestFiles(nameof(BadArgumentsThrowClearly));
        var path = files.PathOf("bad.png");
        Assert.Multiple(() =>
        {
            Assert.That(() => LossPlot.Save(path, new Dictionary<string, IReadOnlyList<(double X, double Y)>>()), Throws.ArgumentException.With.Message.Contains("at least one series"));
            Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [])]), Throws.ArgumentException.With.Message.Contains("'a' has no points"));
            Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [(0, 1), (1, double.NaN)])]), Throws.ArgumentException.With.Message.Contains("index 1"));
            Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [(0, 1), (1, 0)])], logY: true), Throws.ArgumentException.With.Message.Contains("positive"));
            Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [(0, 1)]), new PlotSeries("a", [(0, 2)])]), Throws.ArgumentException.With.Message.Contains("Two series"));
            Assert.That(() => LossPlot.Save(path, [new PlotSeries("a", [(0, 1)])], width: 10), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
        Assert.That(File.Exists(path), Is.False);
    }
}
