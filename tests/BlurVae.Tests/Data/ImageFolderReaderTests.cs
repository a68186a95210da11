namespace BlurVae.Tests.Data;

[TestFixture, Category("Data")]
public class ImageFolderReaderTests : TempDirectoryTest
{
    private static readonly SKColor Centre = new(200, 100, 50);

    /// <summary>A 40×20 PNG: the centred 20×20 square is <see cref="Centre"/>, the 10-pixel side bands are green and blue.</summary>
    private static byte[] Banded() =>
        TestFiles.Image(40, 20, (x, _) => x < 10 ? SKColors.Lime : x >= 30 ? SKColors.Blue : Centre);

    private static void AssertUniform(ImageDataset d, int index, int[] rgb, int tolerance)
    {
        for (int c = 0; c < d.Channels; c++)
            for (int y = 0; y < d.Height; y++)
                for (int x = 0; x < d.Width; x++)
                    Assert.That(d.GetPixel(index, c, y, x) * 255, Is.EqualTo(rgb[c]).Within(tolerance), $"image {index} channel {c} pixel ({y}, {x})");
    }

    [Test]
    public void CentreCropsAndResizesPngAndJpegInNameOrder()
    {
        File.WriteAllBytes(PathOf("b.png"), Banded());
        File.WriteAllBytes(PathOf("a.jpg"), TestFiles.Image(30, 50, (_, _) => new SKColor(10, 120, 240), SKEncodedImageFormat.Jpeg));
        File.WriteAllBytes(PathOf(".hidden"), "ignored"u8.ToArray());
        var d = ImageFolderReader.Read(Dir, side: 8);
        Assert.That((d.Count, d.Channels, d.Height, d.Width), Is.EqualTo((2, 3, 8, 8)));
        AssertUniform(d, 0, [10, 120, 240], tolerance: 3);     // a.jpg (lossy)
        AssertUniform(d, 1, [200, 100, 50], tolerance: 0);     // b.png: the side bands are cropped away
    }

    [Test]
    public void GreyUsesLuma()
    {
        File.WriteAllBytes(PathOf("b.png"), Banded());
        var d = ImageFolderReader.Read(Dir, side: 5, channels: 1);
        Assert.That(d.Channels, Is.EqualTo(1));
        AssertUniform(d, 0, [(int)Math.Round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)], tolerance: 0);
    }

    [Test]
    public void LargeReductionsAverageInsteadOfAliasing()
    {
        // 4-pixel white stripes every 16 pixels, centred where a 16× reduction samples: an interpolating filter
        // alone would read white there; averaging over each 16-pixel cell gives a quarter of full intensity.
        File.WriteAllBytes(PathOf("c.png"), TestFiles.Image(256, 256, (x, _) => x % 16 is >= 6 and <= 9 ? SKColors.White : SKColors.Black));
        var d = ImageFolderReader.Read(Dir, side: 16, channels: 1);
        AssertUniform(d, 0, [64], tolerance: 2);
    }

    [Test]
    public void UpscalesSmallImages()
    {
        File.WriteAllBytes(PathOf("s.png"), TestFiles.Image(4, 4, (_, _) => new SKColor(90, 90, 90)));
        AssertUniform(ImageFolderReader.Read(Dir, side: 9, channels: 1), 0, [90], tolerance: 1);
    }

    [Test]
    public void NonImageFilesAreErrorsNamingTheFile()
    {
        File.WriteAllBytes(PathOf("a.png"), Banded());
        File.WriteAllText(PathOf("notes.txt"), "not an image");
        Assert.That(() => ImageFolderReader.Read(Dir, 8),
            Throws.TypeOf<DatasetFormatException>().With.Message.StartsWith(PathOf("notes.txt")).And.Message.Contains("not an image"));
    }

    [Test]
    public void TruncatedImagesAreErrorsNamingTheFile()
    {
        var png = TestFiles.Image(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), 7));
        File.WriteAllBytes(PathOf("cut.png"), png[..(png.Length / 2)]);
        var jpg = TestFiles.Image(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), 7), SKEncodedImageFormat.Jpeg);
        File.WriteAllBytes(PathOf("cut.jpg"), jpg[..(jpg.Length / 2)]);
        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(Dir, 8))!;
        Assert.That(e.FilePath, Is.EqualTo(PathOf("cut.jpg")), "the first bad file in name order");
        Assert.That(e.Message, Does.Contain("truncated"));
        File.Delete(PathOf("cut.jpg"));
        Assert.That(() => ImageFolderReader.Read(Dir, 8), Throws.TypeOf<DatasetFormatException>().With.Property("FilePath").EqualTo(PathOf("cut.png")));
    }

    [Test]
    public void SkipFlagSkipsUnreadableFilesWithAWarning()
    {
        File.WriteAllBytes(PathOf("a.png"), Banded());
        File.WriteAllText(PathOf("b.txt"), "not an image");
        File.WriteAllBytes(PathOf("c.png"), Banded()[..40]);
        File.WriteAllBytes(PathOf("d.png"), Banded());
        var warnings = new List<string>();
        var d = ImageFolderReader.Read(Dir, 8, skipUnreadable: true, warning: warnings.Add);
        Assert.That(d.Count, Is.EqualTo(2));
        Assert.That(warnings, Has.Count.EqualTo(2));
        Assert.That(warnings[0], Does.Contain("b.txt"));
        Assert.That(warnings[1], Does.Contain("c.png"));
    }

    [Test]
    public void MaxImagesKeepsTheFirstReadableOnes()
    {
        for (int i = 0; i < 4; i++)
            File.WriteAllBytes(PathOf($"{i}.png"), TestFiles.Image(6, 6, (_, _) => new SKColor((byte)(40 * i), 0, 0)));
        var d = ImageFolderReader.Read(Dir, 6, maxImages: 2);
        Assert.That(d.Count, Is.EqualTo(2));
        Assert.That(d.GetPixel(1, 0, 0, 0) * 255, Is.EqualTo(40).Within(1e-3));
    }

    [Test]
    public void EmptyFolderIsAnError()
    {
        Assert.That(() => ImageFolderReader.Read(Dir, 8), Throws.TypeOf<InvalidDataException>().With.Message.Contains("no readable images"));
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolderReader.Read(PathOf("missing"), 8));
    }
}
