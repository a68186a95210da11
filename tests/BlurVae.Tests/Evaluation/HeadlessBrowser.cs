namespace BlurVae.Tests.Evaluation;

/// <summary>
/// Renders a page with headless chromium (Debian's `chromium`, installed by .ci/run) into a PNG. Without chromium the
/// test fails under CI=true and is ignored with the reason elsewhere, like the PyTorch cross-checks.
/// </summary>
internal static class HeadlessBrowser
{
    public static SKBitmap Screenshot(string htmlPath, string pngPath, int width = 1400, int height = 2000)
    {
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            const string reason = "chromium is not installed, so the report cannot be rendered (`apt-get install chromium`; .ci/run does this as root).";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
            Assert.Ignore(reason);
        }
        var profile = Directory.CreateTempSubdirectory("blurvae-chromium-");
        try
        {
            var (code, stdout, stderr) = Reference.PyTorchReference.Execute(chromium!,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                $"--user-data-dir={profile.FullName}", "--allow-file-access-from-files",
                $"--window-size={width},{height}", $"--screenshot={pngPath}", new Uri(htmlPath).AbsoluteUri,
            ], TimeSpan.FromMinutes(2));
            Assert.That(code, Is.Zero, $"chromium failed:\n{stdout}\n{stderr}");
            Assert.That(File.Exists(pngPath), Is.True, $"chromium wrote no screenshot:\n{stderr}");
            return SKBitmap.Decode(pngPath) ?? throw new InvalidDataException($"{pngPath} is not a PNG.");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
