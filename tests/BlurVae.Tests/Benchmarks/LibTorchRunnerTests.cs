namespace BlurVae.Tests.Benchmarks;

/// <summary>
/// `blurvae bench --against libtorch`: the flag's checks, the missing-build message, and the child's JSON through a
/// stand-in script; one test runs the real bench/BlurVae.LibTorchBench when tools/libtorch-bench.sh has built it (CI
/// does not: TorchSharp-cpu restores ~600 MB).
/// </summary>
[TestFixture, Category("Benchmarks")]
public class LibTorchRunnerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "blurvae-libtorch-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static BenchOptions Tiny(string against) => new()
    {
        Configs = [FlopCountTests.Tiny], Threads = 1, Repeats = 2, Steps = 2, Warmup = 1, Against = against, Parts = ["step"],
    };

    [TestCase("libtorch")]
    [TestCase("pytorch,libtorch")]
    [TestCase("libtorch,pytorch")]
    public void AgainstAcceptsLibTorch(string against)
    {
        var options = Tiny(against);
        Assert.DoesNotThrow(options.Validate);
        Assert.That(options.Engines, Is.EqualTo(against.Split(',')));
    }

    [TestCase("torch", "--against must be pytorch, libtorch")]
    [TestCase("libtorch,libtorch", "--against must be pytorch, libtorch")]
    [TestCase("none,libtorch", "--against must be pytorch, libtorch")]
    [TestCase("", "--against must be pytorch, libtorch")]
    public void AgainstRejectsOtherNames(string against, string expected) =>
        Assert.That(() => Tiny(against).Validate(), Throws.ArgumentException.With.Message.Contains(expected));

    [Test]
    public void LibTorchIsCpuOnlyAndHasNoCompile()
    {
        Assert.That(() => (Tiny("libtorch") with { Device = "cuda" }).Validate(), Throws.ArgumentException.With.Message.Contains("--device cpu"));
        Assert.That(() => (Tiny("libtorch") with { Compile = true }).Validate(), Throws.ArgumentException.With.Message.Contains("--compile"));
        Assert.DoesNotThrow((Tiny("pytorch,libtorch") with { Compile = true }).Validate);
    }

    [Test]
    public void MissingBuildExitsOneNamingTheScript()
    {
        var (code, _, err) = Cli.CliRunner.Invoke("bench", "--against", "libtorch", "--libtorch-bench", Path.Combine(_dir, "nope.dll"), "--steps", "1", "--repeats", "1");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("not built").And.Contain("tools/libtorch-bench.sh").And.Contain("nope.dll"));
    }

    /// <summary>A stand-in for the built benchmark: records its arguments, prints a warning and then the JSON object.</summary>
    private string FakeLibTorchBench(long vaeParameters, long generatorParameters)
    {
        var calls = Path.Combine(_dir, "calls.txt");
        return Script("libtorch-bench.sh", $$"""
            #!/bin/sh
            echo "libtorch $*" >> '{{calls}}'
            echo "[W some libtorch warning]"
            steps=$(echo "$*" | sed 's/.*--steps \([0-9]*\).*/\1/')
            ms=$(yes 50.0 | head -n "$steps" | paste -sd, -)
            echo '{"engine": "libtorch", "torch": "2.10.0", "device": "cpu", "device_name": "fake cpu", "threads": 1, "part": "step", "compiled": false, "step_ms": ['"$ms"'], "peak_working_set_mib": 400.0, "cpu_isa": "AVX2", "parameters": {"vae": '{{vaeParameters}}', "kernel_generator": '{{generatorParameters}}'} }'
            """);
    }

    /// <summary>An executable shell script in the test's folder.</summary>
    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, body.Replace("\r", ""));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static (long Vae, long Generator) OurParameters()
    {
        var ours = new OursRunner(FlopCountTests.Tiny, new CpuBackend());
        return (ours.Trainer.Vae.ParameterCount(), ours.Trainer.Generator.ParameterCount());
    }

    [Test]
    public void ChildJsonIsParsedAndRatioed()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the stand-in is a shell script");
        var (vae, gen) = OurParameters();
        var report = BenchRunner.Run(Tiny("libtorch") with { LibTorchBench = FakeLibTorchBench(vae, gen) }, "cmd", TextWriter.Null);
        var step = report.Results.Single();
        var theirs = step.References.Single();
        Assert.That(theirs.Available, Is.True, theirs.Reason);
        Assert.That(theirs.Engine, Is.EqualTo("libtorch"));
        Assert.That(theirs.StepMs, Is.EqualTo(new[] { 50.0, 50.0, 50.0, 50.0 }), "two repeats of two steps");
        Assert.That(theirs.Version, Is.EqualTo("2.10.0"));
        Assert.That(theirs.PeakWorkingSetMib, Is.EqualTo(400));
        Assert.That(step.RatioToOurs(theirs), Is.EqualTo(50 / step.Ours.Median).Within(1e-9));
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "calls.txt"))[0], Does.Contain("--arch A").And.Contain("--part step").And.Contain("--warmup 1 --steps 2"));
        var json = report.ToJson();
        Assert.That(json["machine"]!["libtorch"]!.GetValue<string>(), Is.EqualTo("2.10.0"));
        Assert.That(json["results"]![0]!["engines"]![1]!["ratio_to_ours"]!.GetValue<double>(), Is.EqualTo(50 / step.Ours.Median).Within(1e-9));
        Assert.That(report.ToMarkdown(), Does.Contain("libtorch 2.10.0 (TorchSharp)").And.Contain("libtorch repeat: `"));
    }

    [Test]
    public void DifferentModelIsUnavailable()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the stand-in is a shell script");
        var (vae, gen) = OurParameters();
        var report = BenchRunner.Run(Tiny("libtorch") with { LibTorchBench = FakeLibTorchBench(vae + 1, gen), Repeats = 1 }, "cmd", TextWriter.Null);
        var theirs = report.Results.Single().References.Single();
        Assert.That(theirs.Available, Is.False);
        Assert.That(theirs.Reason, Does.Contain("different model").And.Contain($"VAE {vae + 1}").And.Contain($"ours {vae}"));
        Assert.That(theirs.StepMs, Is.Empty, "no numbers from another network");
    }

    [Test]
    public void BothEnginesRunInterleaved()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the stand-ins are shell scripts");
        var (vae, gen) = OurParameters();
        var calls = Path.Combine(_dir, "calls.txt");
        var benchPy = Script("bench.py", $$"""
            #!/bin/sh
            echo "pytorch $*" >> '{{calls}}'
            echo '{"engine": "pytorch", "torch": "1.13.1", "step_ms": [80.0, 80.0]}'
            """);
        var report = BenchRunner.Run(Tiny("pytorch,libtorch") with { LibTorchBench = FakeLibTorchBench(vae, gen), Reference = benchPy, Python = "/bin/sh" }, "cmd", TextWriter.Null);
        Assert.That(File.ReadAllLines(calls).Select(l => l.Split(' ')[0]), Is.EqualTo(new[] { "pytorch", "libtorch", "pytorch", "libtorch" }));
        var refs = report.Results.Single().References;
        Assert.That(refs.Select(m => (m.Engine, m.Median)), Is.EqualTo(new[] { ("pytorch", 80.0), ("libtorch", 50.0) }));
        Assert.That(report.Results.Single().SpeedUp, Is.EqualTo(report.Results.Single().RatioToOurs(refs[0])), "speed_up is the first engine's");
    }

    private static string RequireBuilt()
    {
        var dll = Path.Combine(Repository.Root(), LibTorchRunner.RelativeDll);
        if (!File.Exists(dll) || !File.Exists(Path.Combine(Path.GetDirectoryName(dll)!, "libtorch-native", "libLibTorchSharp.so")))
            Assert.Ignore($"bench/BlurVae.LibTorchBench is not built here (run {LibTorchRunner.SetupScript}); CI does not build it.");
        return dll;
    }

    /// <summary>The real libtorch 2.10 step at a tiny size, when tools/libtorch-bench.sh has built it here.</summary>
    [Test]
    public void BuiltLibTorchBenchRunsTheSameModel()
    {
        RequireBuilt();
        var report = BenchRunner.Run(Tiny("libtorch") with { Repeats = 1, Parts = ["step", "loss"] }, "cmd", TextWriter.Null);
        foreach (var r in report.Results)
        {
            var theirs = r.References.Single();
            Assert.That(theirs.Available, Is.True, theirs.Reason);
            Assert.That(theirs.Version, Does.StartWith("2.10"));
            Assert.That(theirs.StepMs, Has.Count.EqualTo(2).And.All.GreaterThan(0));
        }
    }

    /// <summary>
    /// The port computes PyTorch's losses: reference/pytorch/libtorch_check.py gives both the same weights and data and
    /// compares three alternating steps' reconstruction, KL and kernel-fit values (float32, 1e-4 relative).
    /// </summary>
    [Test]
    public void BuiltLibTorchBenchMatchesPyTorch()
    {
        var dll = RequireBuilt();
        var python = TorchPython.Path;
        if (python is null) Assert.Ignore($"no Python with torch ({TorchPython.Report}): the check compares against PyTorch.");
        var r = ChildProcess.Run(python!, [Path.Combine(Repository.Root(), "reference", "pytorch", "libtorch_check.py"), "--dll", dll,
            "--side", "8", "--channels", "4,8", "--latent", "2", "--kernel", "3", "--batch", "4", "--steps", "3"], TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stdout + r.Stderr);
        Assert.That(r.Stdout, Does.Contain("within"));
    }
}
