namespace BlurVae.Tests.Cli;

/// <summary>tools/gpu-check.sh, the one command for a GPU machine, in its dry-run mode (what it would run) and its argument checks.</summary>
[TestFixture, Category("Cli")]
public class GpuCheckScriptTests
{
    private string _out = "";

    [SetUp]
    public void MakeOutput() => _out = Path.Combine(Path.GetTempPath(), $"blurvae-gpu-check-{Guid.NewGuid():N}");

    [TearDown]
    public void RemoveOutput()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tools", "gpu-check.sh");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException("tools/gpu-check.sh not found above the test assembly.");
    }

    private static (int Code, string Output) Bash(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(30_000), Is.True, "the dry run finishes at once");
        return (p.ExitCode, output);
    }

    private string[] DryRunCommands(params string[] extra)
    {
        var (code, output) = Bash([_out, "--dry-run", .. extra]);
        Assert.That(code, Is.EqualTo(0), output);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_out, "summary.json")))!;
        Assert.That(summary["dry_run"]!.GetValue<bool>(), Is.True);
        return summary["commands"]!.AsArray().Select(c => c!["command"]!.GetValue<string>()).ToArray();
    }

    [Test]
    public void OnCudaItRunsSelftestBothBenchmarksAndTheProfileWithJsonIntoTheFolder()
    {
        var commands = DryRunCommands();
        Assert.That(commands, Has.Some.Contains("selftest --device cuda").And.Some.Contains($"--json {_out}/selftest.json"));
        foreach (var config in new[] { "fashion32", "celeba64" })
            Assert.That(commands, Has.Some.Contains($"bench --device cuda --config {config} --against").And.Some.Contains($"{_out}/bench-{config}.json"));
        Assert.That(commands, Has.Some.Contains($"profile --config all --json {_out}/profile.json"));
        Assert.That(commands.Where(c => !c.Contains("bench.py")), Has.All.Contains("--json"), "every blurvae result is written as JSON");
    }

    [Test]
    public void EmulatedRunsSmallWork()
    {
        var commands = DryRunCommands("--device", "emulated");
        Assert.That(commands, Has.Some.Contains("selftest --device emulated --quick"));
        Assert.That(commands, Has.None.Contains("--config celeba64 --against"));
    }

    [Test]
    public void HelpPrintsTheUsageAndCreatesNoFolder()
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (code, output) = Bash(flag);
            Assert.That(code, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("usage:").And.Contain("OUTDIR"));
            Assert.That(Directory.Exists(flag), Is.False, "no folder named after the flag");
        }
    }

    [Test]
    public void WithoutOutdirItSaysWhatIsMissing()
    {
        var (code, output) = Bash("--dry-run");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Does.Contain("OUTDIR is missing"));
    }

    [Test]
    public void OptionsMayComeBeforeTheFolder()
    {
        var (code, output) = Bash("--dry-run", "--device", "emulated", _out);
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(File.Exists(Path.Combine(_out, "summary.json")), Is.True);
    }

    [TestCase("--device", "tpu")]
    [TestCase("--frobnicate", "")]
    public void BadArgumentsExitTwo(string flag, string value)
    {
        var (code, output) = Bash([_out, flag, .. value.Length > 0 ? new[] { value } : []]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Does.Contain(flag));
    }
}
