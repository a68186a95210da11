namespace BlurVae.Tests.Native;

/// <summary>Shared set-up of the NVRTC and device tests: loading NVRTC, finding the repository.</summary>
internal static class NvrtcSupport
{
    /// <summary>
    /// Loads libnvrtc or stops the test: ignored outside CI, failed in CI (CI=true), where .ci/run installs
    /// Debian's libnvrtc11.2, so a missing library there is a broken set-up rather than a reason to skip.
    /// </summary>
    public static void RequireNvrtc()
    {
        if (NativeLibraries.TryLoad(NativeLibraries.Nvrtc, out _, out var message)) return;
        var reason = $"NVRTC is not installed ({message}). On Debian: enable the non-free component and " +
                     "`apt-get install libnvrtc11.2 libnvrtc-builtins11.8` (.ci/run does this as root).";
        TestContext.Out.WriteLine(reason);
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Ignore(reason);
    }

    /// <summary>The options the CUDA backend compiles kernels.cu with, for one virtual architecture.</summary>
    public static string[] KernelOptions(int architecture, string root)
    {
        var options = new List<string>
        {
            $"--gpu-architecture=compute_{architecture}",
            "-default-device",
            "--std=c++17",
            $"--include-path={root}",
        };
        var kernels = Path.Combine(root, "kernels");
        if (Directory.Exists(kernels)) options.Add($"--include-path={kernels}");
        return options.ToArray();
    }
}
