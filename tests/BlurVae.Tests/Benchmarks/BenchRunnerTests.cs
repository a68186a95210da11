namespace BlurVae.Tests.Benchmarks;

[TestFixture, Category("Benchmarks")]
public class BenchRunnerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "blurvae-bench-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static BenchOptions Tiny(string against = "none") => new()
    {
        Configs = [FlopCountTests.Tiny], Threads = 1, Repeats = 2, Steps = 2, Warmup = 1, Against = against,
    };

    [Test]
    public void TinyRunAgainstNoneTimesBothParts()
    {
        int threads = CpuBackend.Threads;
        var log = new StringWriter();
        var report = BenchRunner.Run(Tiny(), "blurvae bench (test)", log);
        Assert.That(CpuBackend.Threads, Is.EqualTo(threads), "the thread count is restored");
        Assert.That(report.Results.Select(r => r.Part), Is.EqualTo(new[] { "step", "loss" }));
        foreach (var r in report.Results)
        {
            Assert.That(r.References, Is.Empty);
            Assert.That(r.Ours.RepeatMs, Has.Count.EqualTo(2));
            Assert.That(r.Ours.StepMs, Has.Count.EqualTo(4));
            Assert.That(r.Ours.StepMs, Has.All.GreaterThan(0));
            Assert.That(r.Ours.Median, Is.EqualTo(Stats.Quantile(r.Ours.StepMs, 0.5)).Within(1e-9), "median of every timed step");
            if (OperatingSystem.IsLinux()) Assert.That(r.Ours.PeakWorkingSetMib, Is.GreaterThan(0), "VmHWM after the timed steps");
        }
        Assert.That(log.ToString(), Does.Contain("tiny step").And.Contain("GFLOP per pass").And.Contain("repeat 2/2"));
    }

    private string FakeBenchPy(string body)
    {
        var path = Path.Combine(_dir, "bench.py");
        File.WriteAllText(path, body);
        return path;
    }

    private static void RequirePython()
    {
        if (!File.Exists("/usr/bin/python3") && !File.Exists("/usr/local/bin/python3"))
            Assert.Ignore("python3 is not installed: the subprocess tests need an interpreter (not PyTorch).");
    }

    [Test]
    public void ReferenceRepeatsAreInterleavedAndParsed()
    {
        RequirePython();
        // A stand-in for reference/pytorch/bench.py: records its arguments and prints the interface's JSON object.
        var logFile = Path.Combine(_dir, "calls.txt");
        var script = FakeBenchPy($$"""
            import json, sys
            args = sys.argv[1:]
            open({{Py(logFile)}}, "a").write(" ".join(args) + "\n")
            part = args[args.index("--part") + 1]
            steps = int(args[args.index("--steps") + 1])
            print("some warning on stdout first")
            print(json.dumps({"engine": "pytorch", "torch": "9.9.9", "device": "cpu", "device_name": "fake cpu", "threads": 1,
                              "part": part, "compiled": False, "step_ms": [100.0 if part == "step" else 10.0] * steps,
                              "peak_working_set_mib": 300.0 if part == "step" else None}))
            """);
        var report = BenchRunner.Run(Tiny("pytorch") with { Reference = script }, "cmd", TextWriter.Null);
        var calls = File.ReadAllLines(logFile);
        Assert.That(calls, Has.Length.EqualTo(4), "two repeats of two parts");
        Assert.That(calls[0], Does.Contain("--part step").And.Contain("--threads 1").And.Contain("--warmup 1 --steps 2").And.Contain("--side 8"));
        Assert.That(calls[2], Does.Contain("--part loss"));
        var step = report.Results[0];
        Assert.That(step.References[0].Available, Is.True);
        Assert.That(step.References[0].Median, Is.EqualTo(100));
        Assert.That(step.References[0].Version, Is.EqualTo("9.9.9"));
        Assert.That(step.References[0].PeakWorkingSetMib, Is.EqualTo(300));
        Assert.That(report.Results[1].References[0].PeakWorkingSetMib, Is.Null, "bench.py could not tell");
        Assert.That(step.References[0].DeviceName, Is.EqualTo("fake cpu"));
        Assert.That(step.SpeedUp, Is.EqualTo(100 / step.Ours.Median).Within(1e-9));
        Assert.That(report.Results[1].References[0].Median, Is.EqualTo(10));
        Assert.That(report.ToJson()["machine"]!["torch"]!.GetValue<string>(), Is.EqualTo("9.9.9"));
    }

    [Test]
    public void FailingReferenceIsUnavailableWithItsError()
    {
        RequirePython();
        var script = FakeBenchPy("import sys\nsys.stderr.write('ModuleNotFoundError: No module named torch\\n')\nsys.exit(1)\n");
        var report = BenchRunner.Run(Tiny("pytorch") with { Reference = script }, "cmd", TextWriter.Null);
        var theirs = report.Results[0].References[0];
        Assert.That(theirs.Available, Is.False);
        Assert.That(theirs.Reason, Does.Contain("exited with code 1").And.Contain("No module named torch"));
        Assert.That(theirs.RepeatMs, Is.Empty);
        Assert.That(report.Results[0].Ours.Available, Is.True);
    }

    [Test]
    public void MissingScriptOrInterpreterIsUnavailable()
    {
        var missing = BenchRunner.Run(Tiny("pytorch") with { Reference = Path.Combine(_dir, "nope.py"), Parts = ["loss"], Repeats = 1 }, "cmd", TextWriter.Null);
        Assert.That(missing.Results[0].References[0].Reason, Does.Contain("not found").And.Contain("nope.py"));

        var script = FakeBenchPy("print('{}')\n");
        var noPython = BenchRunner.Run(Tiny("pytorch") with { Reference = script, Python = "/nonexistent/python3", Parts = ["loss"], Repeats = 1 }, "cmd", TextWriter.Null);
        Assert.That(noPython.Results[0].References[0].Reason, Does.Contain("/nonexistent/python3").And.Contain("could not be started"));
    }

    [TestCase("", "printed nothing")]
    [TestCase("not json", "not the expected JSON")]
    [TestCase("{\"engine\": \"pytorch\"}", "no step_ms")]
    [TestCase("{\"step_ms\": []}", "positive")]
    [TestCase("{\"step_ms\": [1.0, -2.0]}", "positive")]
    public void MalformedOutputIsAnError(string stdout, string expected)
    {
        var outcome = PyTorchRunner.Parse(stdout);
        Assert.That(outcome.StepMs, Is.Null);
        Assert.That(outcome.Error, Does.Contain(expected));
    }

    [Test]
    public void ParseTakesTheLastLine()
    {
        var outcome = PyTorchRunner.Parse("warning: something\n{\"torch\": \"1.13.1\", \"step_ms\": [5.5, 6.5]}\n\n");
        Assert.That(outcome.StepMs, Is.EqualTo(new[] { 5.5, 6.5 }));
        Assert.That(outcome.Info!["torch"]!.GetValue<string>(), Is.EqualTo("1.13.1"));
    }

    private static string Py(string path) => "\"" + path.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
