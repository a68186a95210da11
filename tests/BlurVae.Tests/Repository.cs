namespace BlurVae.Tests;

/// <summary>The checkout the tests run from.</summary>
internal static class Repository
{
    /// <summary>The folder holding BlurVae.sln, found by walking up from the test assembly.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BlurVae.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No BlurVae.sln above {TestContext.CurrentContext.TestDirectory}.");
    }
}
