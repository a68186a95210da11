using static BlurVae.Tests.Reports.ReportTestFiles;

namespace BlurVae.Tests.Reports;

[TestFixture, Category("Reports")]
public class ImageGridTests
{
    [Test]
    public void BlackAndWhiteRowsLandWhereExpected()
    {
        using var files = new ReportTestFiles(nameof(BlackAndWhiteRowsLandWhereExpected));
        var path = files.PathOf("sub/dir/grid.png");
        // Row 0: two 4×5 grey images at −1; row 1: two at +1. Scale 2, gap 3: cells 10×8.
        var black = Tensor.Full([2, 1, 4, 5], -1.0);
        var white = Tensor.Full([2, 1, 4, 5], 1.0);
        ImageGrid.Save(path, [black, white], scale: 2, gap: 3, background: new SKColor(10, 200, 30));

        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((3 + 2 * (10 + 3), 3 + 2 * (8 + 3))));
        AssertPixel(bmp, 0, 0, 10, 200, 30, "gap");
        AssertPixel(bmp, 13, 5, 10, 200, 30, "gap between columns");
        for (int col = 0; col < 2; col++)
        {
            int x0 = 3 + col * 13;
            AssertPixel(bmp, x0, 3, 0, 0, 0, "−1 image, top-left");
            AssertPixel(bmp, x0 + 9, 3 + 7, 0, 0, 0, "−1 image, bottom-right");
            AssertPixel(bmp, x0, 14, 255, 255, 255, "+1 image, top-left");
            AssertPixel(bmp, x0 + 9, 14 + 7, 255, 255, 255, "+1 image, bottom-right");
        }
        AssertPixel(bmp, 3, 11, 10, 200, 30, "gap between rows");
    }

    [Test]
    public void ColourAndScaledPixelsAreExact()
    {
        using var files = new ReportTestFiles(nameof(ColourAndScaledPixelsAreExact));
        var path = files.PathOf("colour.png");
        // One 2×2 RGB image: R = +1 everywhere, G = −1, B = [[0, 0.5], [−0.5, 2]] (2 clamps to 1).
        var v = new double[] { 1, 1, 1, 1, -1, -1, -1, -1, 0, 0.5, -0.5, 2 };
        ImageGrid.Save(path, [Tensor.FromArray(v, [1, 3, 2, 2])], scale: 3, gap: 0);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((6, 6)));
        // round(0.5·255) = 128, round(0.75·255) = 191, round(0.25·255) = 64.
        foreach (var (x, y, b) in new[] { (0, 0, 128), (2, 2, 128), (3, 0, 191), (5, 2, 191), (0, 3, 64), (2, 5, 64), (3, 3, 255), (5, 5, 255) })
            AssertPixel(bmp, x, y, 255, 0, (byte)b, "scaled pixel");
    }

    [Test]
    public void RowLabelsAddALabelColumnOnTheLeft()
    {
        using var files = new ReportTestFiles(nameof(RowLabelsAddALabelColumnOnTheLeft));
        var rng = new Random(3);
        var inputs = Tensor.Uniform([4, 3, 12, 12], -1, 1, rng);
        var recon = Tensor.Full([4, 3, 12, 12], -1.0);
        ImageGrid.Save(files.PathOf("plain.png"), [inputs, recon], scale: 2);
        ImageGrid.Save(files.PathOf("labelled.png"), [inputs, recon], scale: 2, rowLabels: ["input", "reconstruction"]);
        using var plain = Decode(files.PathOf("plain.png"));
        using var labelled = Decode(files.PathOf("labelled.png"));
        Assert.That(labelled.Height, Is.EqualTo(plain.Height));
        int labelWidth = labelled.Width - plain.Width;
        Assert.That(labelWidth, Is.GreaterThan(0));
        // The images are the same, shifted right by the label column.
        for (int y = 0; y < plain.Height; y += 3)
            for (int x = 0; x < plain.Width; x += 3)
                Assert.That(labelled.GetPixel(x + labelWidth, y), Is.EqualTo(plain.GetPixel(x, y)), $"pixel ({x}, {y})");
        if (SKFontManager.Default.FontFamilyCount > 0)
        {
            int dark = 0;
            for (int y = 0; y < labelled.Height; y++)
                for (int x = 0; x < labelWidth; x++)
                    if (labelled.GetPixel(x, y).Red < 128) dark++;
            Assert.That(dark, Is.GreaterThan(20), "label text is drawn");
        }
    }

    [Test]
    public void SamplesWrapIntoRows()
    {
        using var files = new ReportTestFiles(nameof(SamplesWrapIntoRows));
        var path = files.PathOf("samples.png");
        ImageGrid.SaveSamples(path, Tensor.Full([5, 1, 4, 4], 1.0), columns: 2, gap: 1, background: SKColors.Red);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((1 + 2 * 5, 1 + 3 * 5)));
        AssertPixel(bmp, 1, 11, 255, 255, 255, "fifth image (row 2, column 0), top-left");
        AssertPixel(bmp, 4, 14, 255, 255, 255, "fifth image (row 2, column 0), bottom-right");
        AssertPixel(bmp, 7, 12, 255, 0, 0, "empty last cell");
    }

    [Test]
    public void OverwritesAtomicallyLeavingNoTemporaryFiles()
    {
        using var files = new ReportTestFiles(nameof(OverwritesAtomicallyLeavingNoTemporaryFiles));
        var path = files.PathOf("grid.png");
        ImageGrid.Save(path, [Tensor.Full([1, 1, 3, 3], -1.0)], gap: 0);
        ImageGrid.Save(path, [Tensor.Full([1, 1, 3, 3], 1.0)], gap: 0);
        using var bmp = Decode(path);
        AssertPixel(bmp, 1, 1, 255, 255, 255, "the second write wins");
        Assert.That(Directory.GetFiles(files.Directory), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void BadArgumentsThrowClearly()
    {
        using var files = new ReportTestFiles(nameof(BadArgumentsThrowClearly));
        var path = files.PathOf("bad.png");
        var ok = Tensor.Zeros([1, 1, 4, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(() => ImageGrid.Save(path, []), Throws.ArgumentException);
            Assert.That(() => ImageGrid.Save(path, [ok, Tensor.Zeros([1, 2, 4, 4])]), Throws.ArgumentException.With.Message.Contains("rows[1]"));
            Assert.That(() => ImageGrid.Save(path, [Tensor.Zeros([4, 4])]), Throws.ArgumentException.With.Message.Contains("[N, C, H, W]"));
            Assert.That(() => ImageGrid.Save(path, [ok], scale: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => ImageGrid.Save(path, [ok], gap: -1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => ImageGrid.Save(path, [ok], rowLabels: ["a", "b"]), Throws.ArgumentException.With.Message.Contains("2 row labels for 1 rows"));
            Assert.That(() => ImageGrid.Save(path, [Tensor.FromArray([double.NaN], [1, 1, 1, 1])]), Throws.ArgumentException.With.Message.Contains("NaN"));
            Assert.That(() => ImageGrid.Save(" ", [ok]), Throws.ArgumentException.With.Message.Contains("blank"));
            Assert.That(() => ImageGrid.SaveSamples(path, ok, columns: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
        Directory.CreateDirectory(files.PathOf("isadir"));
        Assert.That(() => ImageGrid.Save(files.PathOf("isadir"), [ok]), Throws.ArgumentException.With.Message.Contains("directory"));
        Assert.That(File.Exists(path), Is.False, "no file from failed calls");
    }
}
