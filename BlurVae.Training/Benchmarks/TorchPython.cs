namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The one rule for finding a Python that can <c>import torch</c>, used by <c>blurvae bench</c> and by the PyTorch
/// cross-checks of the test suite. Candidates in order: BLURVAE_PYTHON (an explicit choice), the active virtual
/// environment ($VIRTUAL_ENV), /opt/torch/.venv (where the lent GPU machines keep PyTorch), python3 on PATH, and
/// Debian's /usr/bin/python3 (python3-torch installs into its site-packages, which a pyenv or venv python3 earlier
/// on PATH does not see). The first candidate whose <c>import torch</c> succeeds wins.
/// </summary>
public static class TorchPython
{
    private static readonly Lazy<(string? Python, string Report)> Found = new(() => Find(Candidates()));

    /// <summary>The interpreter with torch, or null; <see cref="Report"/> says what was tried.</summary>
    public static string? Path => Found.Value.Python;

    /// <summary>"python: torch VERSION" for the interpreter found, or every candidate tried with its error.</summary>
    public static string Report => Found.Value.Report;

    public static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        var chosen = Environment.GetEnvironmentVariable("BLURVAE_PYTHON");
        if (!string.IsNullOrWhiteSpace(chosen)) list.Add(chosen);
        var venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (!string.IsNullOrWhiteSpace(venv)) list.Add(System.IO.Path.Combine(venv, "bin", "python"));
        list.Add("/opt/torch/.venv/bin/python");
        list.Add("python3");
        list.Add("/usr/bin/python3");
        // An explicit choice is kept even when it does not exist, so the report says so instead of silently skipping it.
        return list.Distinct().Where(p => p == chosen || !p.StartsWith('/') || File.Exists(p)).ToList();
    }

    /// <summary>The first of <paramref name="candidates"/> that can import torch (each probe bounded to two minutes).</summary>
    public static (string? Python, string Report) Find(IEnumerable<string> candidates)
    {
        var tried = new List<string>();
        foreach (var python in candidates)
        {
            var (ok, output) = Probe(python);
            if (ok) return (python, $"{python}: torch {output}");
            tried.Add($"{python}: {output}");
        }
        return (null, "tried " + (tried.Count == 0 ? "no interpreter" : string.Join("; ", tried)));
    }

    private static (bool Ok, string Output) Probe(string python)
    {
        var r = ChildProcess.Run(python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromMinutes(2));
        if (r.StartError is not null) return (false, r.StartError);
        if (r.TimedOut) return (false, "did not answer within 2 minutes");
        return r.ExitCode == 0 ? (true, r.Stdout.Trim()) : (false, r.LastErrorLine);
    }
}
