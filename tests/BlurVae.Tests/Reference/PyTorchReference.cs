namespace BlurVae.Tests.Reference;

/// <summary>
/// Runs reference/pytorch/crosscheck.py: finds a Python with PyTorch, the repository, and turns a failed run into a
/// test failure that shows the script's stderr.
/// </summary>
internal static class PyTorchReference
{
    /// <summary>
    /// The interpreter to use, or stops the test: failed in CI (CI=true), where .ci/run installs python3-torch so a
    /// missing PyTorch is a broken set-up, and ignored elsewhere with the reason (never a silent pass).
    /// </summary>
    public static string RequirePython()
    {
        var (python, report) = (TorchPython.Path, TorchPython.Report);
        if (python is not null) return python;
        return Stop($"PyTorch is not available, so the PyTorch cross-checks cannot run ({report}). On Debian: " +
                    "`apt-get install python3-torch libopenblas0-pthread` (.ci/run does this as root), or set " +
                    "BLURVAE_PYTHON to an interpreter that can `import torch`.");
    }

    /// <summary>
    /// The torch interpreter when it can also import <paramref name="module"/> (scipy, torchvision: Debian installs them
    /// beside python3-torch), or stops the test like <see cref="RequirePython()"/>.
    /// </summary>
    public static string RequirePython(string module, string debianPackage)
    {
        string python = RequirePython();
        var (code, _, stderr) = Execute(python, ["-c", $"import {module}"], TimeSpan.FromMinutes(2));
        if (code == 0) return python;
        return Stop($"{python} cannot import {module} ({stderr.Trim().Split('\n').LastOrDefault()?.Trim()}), so the cross-checks against it cannot run. " +
                    $"On Debian: `apt-get install {debianPackage}` (.ci/run does this as root).");
    }

    private static string Stop(string reason)
    {
        TestContext.Out.WriteLine(reason);
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Ignore(reason);
        return null!;
    }

    /// <summary>Runs crosscheck.py on a case file and reads what it wrote; the seconds it took go to the test log.</summary>
    public static Dictionary<string, SafeTensors.Entry> Run(string python, string casePath, string outPath)
    {
        var script = Path.Combine(Repository.Root(), "reference", "pytorch", "crosscheck.py");
        if (!File.Exists(script)) Assert.Fail($"The reference script {script} is missing.");
        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = Execute(python, [script, casePath, outPath], TimeSpan.FromMinutes(5));
        watch.Stop();
        if (code != 0)
            Assert.Fail($"{python} {script} {casePath} {outPath} exited with {code}.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        var (tensors, metadata) = SafeTensors.Read(outPath);
        TestContext.Out.WriteLine($"crosscheck.py: {watch.Elapsed.TotalSeconds:F2} s wall (torch {metadata.GetValueOrDefault("torch", "?")}, " +
                                  $"{metadata.GetValueOrDefault("seconds", "?")} s inside the script)");
        return tensors;
    }

    internal static (int Code, string Stdout, string Stderr) Execute(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var r = ChildProcess.Run(file, arguments, timeout);
        if (r.StartError is not null) Assert.Fail($"Could not start {file}: {r.StartError}");
        if (r.TimedOut) Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s.");
        return (r.ExitCode, r.Stdout, r.Stderr);
    }
}
