using BlurVae.Training.Io;
using System.Diagnostics;
using BlurVae.Training.Checkpoints;

namespace BlurVae.Tests.Reference;

/// <summary>
/// Runs reference/pytorch/crosscheck.py: finds a Python with PyTorch, the repository, and turns a failed run into a
/// test failure that shows the script's stderr.
/// </summary>
internal static class PyTorchReference
{
    // Interpreters tried in order: an explicit choice, the PATH's python3, and Debian's own (python3-torch installs
    // into /usr/bin/python3's site-packages, which a pyenv or venv python3 on the PATH does not see).
    // One search per module (torch for the PyTorch mirror, scipy for the Fréchet-distance checks), cached.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(string? Python, string Report)>> Found = new();

    /// <summary>
    /// The interpreter to use, or stops the test: failed in CI (CI=true), where .ci/run installs python3-torch so a
    /// missing PyTorch is a broken set-up, and ignored elsewhere with the reason (never a silent pass).
    /// </summary>
    public static string RequirePython(string module = "torch", string debianPackages = "python3-torch libopenblas0-pthread")
    {
        var (python, report) = Found.GetOrAdd(module, m => new Lazy<(string?, string)>(() => FindPython(m))).Value;
        if (python is not null) return python;
        var reason = $"Python's {module} is not available, so the cross-checks against it cannot run ({report}). On Debian: " +
                     $"`apt-get install {debianPackages}` (.ci/run does this as root), or set " +
                     $"BLURVAE_PYTHON to an interpreter that can `import {module}`.";
        TestContext.Out.WriteLine(reason);
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Ignore(reason);
        return null!;
    }

    /// <summary>The folder holding BlurVae.sln, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BlurVae.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No BlurVae.sln above {TestContext.CurrentContext.TestDirectory}.");
    }

    /// <summary>Runs crosscheck.py on a case file and reads what it wrote; the seconds it took go to the test log.</summary>
    public static Dictionary<string, SafeTensors.Entry> Run(string python, string casePath, string outPath)
    {
        var script = Path.Combine(RepositoryRoot(), "reference", "pytorch", "crosscheck.py");
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

    private static (string? Python, string Report) FindPython(string module)
    {
        var candidates = new List<string>();
        var chosen = Environment.GetEnvironmentVariable("BLURVAE_PYTHON");
        if (!string.IsNullOrWhiteSpace(chosen)) candidates.Add(chosen);
        candidates.Add("python3");
        if (File.Exists("/usr/bin/python3")) candidates.Add("/usr/bin/python3");
        var tried = new List<string>();
        foreach (var python in candidates.Distinct())
        {
            try
            {
                var (code, stdout, stderr) = Execute(python, ["-c", $"import {module}; print({module}.__version__)"], TimeSpan.FromMinutes(2));
                if (code == 0) return (python, $"{python}: {module} {stdout.Trim()}");
                var lastLine = stderr.Trim().Split('\n').LastOrDefault() ?? "";
                tried.Add($"{python}: {lastLine.Trim()}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                tried.Add($"{python}: {e.Message}");
            }
        }
        return (null, "tried " + string.Join("; ", tried));
    }

    internal static (int Code, string Stdout, string Stderr) Execute(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s.");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
