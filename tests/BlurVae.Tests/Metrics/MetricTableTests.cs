
namespace BlurVae.Tests.Metrics;

[TestFixture, Category("Metrics")]
public class MetricTableTests
{
    private static MetricTable Sample() =>
        new MetricTable("CelebA test").Add("psnr", new MeanStd(24.5, 1.25, 100)).Add("ssim", [0.5, 0.7]).Add("kernel width", new MeanStd(double.PositiveInfinity, double.NaN, 3));

    [Test]
    public void MarkdownRendering()
    {
        var expected =
            "### CelebA test\n\n" +
            "| Metric | Mean | Std | N |\n" +
            "|:--|--:|--:|--:|\n" +
            "| psnr | 24.500 | 1.250 | 100 |\n" +
            "| ssim | 0.600 | 0.100 | 2 |\n" +
            "| kernel width | inf | nan | 3 |\n";
        Assert.That(Sample().ToMarkdown(3), Is.EqualTo(expected));
    }

    [Test]
    public void TextRenderingIsAligned()
    {
        var expected =
            "CelebA test\n" +
            "metric           mean      std    n\n" +
            "psnr          24.5000 ± 1.2500  100\n" +
            "ssim           0.6000 ± 0.1000    2\n" +
            "kernel width      inf ±    nan    3\n";
        Assert.That(Sample().ToText(), Is.EqualTo(expected));
    }

    [Test]
    public void LookupAndValidation()
    {
        var t = Sample();
        Assert.Multiple(() =>
        {
            Assert.That(t["ssim"].Mean, Is.EqualTo(0.6).Within(1e-15));
            Assert.That(t.Count, Is.EqualTo(3));
            Assert.That(t.Rows.Select(r => r.Name), Is.EqualTo(new[] { "psnr", "ssim", "kernel width" }));
            Assert.That(() => t["lpips"], Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("psnr, ssim, kernel width"));
            Assert.That(() => t.Add("psnr", new MeanStd(1, 0, 1)), Throws.ArgumentException.With.Message.Contains("already"));
            Assert.That(() => t.Add(" ", new MeanStd(1, 0, 1)), Throws.ArgumentException);
            Assert.That(() => t.Add("a|b", new MeanStd(1, 0, 1)), Throws.ArgumentException);
            Assert.That(() => t.ToText(-1), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void SaveMarkdownWritesTheFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "blurvae-metrictable-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "sub", "metrics.md");
            Sample().SaveMarkdown(path);
            Assert.That(File.ReadAllText(path), Is.EqualTo(Sample().ToMarkdown()));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
