namespace BlurVae.Tests.Reports;

/// <summary>
/// A fresh directory per test, deleted afterwards unless BLURVAE_TEST_ARTIFACTS names a folder to keep the
/// pictures in (for looking at them).
/// </summary>
internal sealed class ReportTestFiles : IDisposable
{
    private readonly bool _keep;

    public ReportTestFiles(string testName)
    {
        var keepRoot = Environment.GetEnvironmentVariable("BLURVAE_TEST_ARTIFACTS");
        _keep = !string.IsNullOrEmpty(keepRoot);
        Directory = _keep
            ? Path.Combine(keepRoot!, testName)
            : Path.Combine(Path.GetTempPath(), "blurvae-reports-" + Guid.NewGuid().ToString("N"));
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public static SKBitmap Decode(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        // PNG signature: \x89 P N G \r \n \x1a \n.
        Assert.That(bytes.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        return SKBitmap.Decode(bytes) ?? throw new AssertionException($"{path} does not decode as an image");
    }

    public static void AssertPixel(SKBitmap bmp, int x, int y, byte r, byte g, byte b, string what)
    {
        var c = bmp.GetPixel(x, y);
        Assert.That((c.Red, c.Green, c.Blue), Is.EqualTo((r, g, b)), $"{what} at ({x}, {y})");
    }

    public void Dispose()
    {
        if (!_keep && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
