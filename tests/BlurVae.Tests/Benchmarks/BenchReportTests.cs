namespace BlurVae.Tests.Benchmarks;

[TestFixture, Category("Benchmarks")]
public class BenchReportTests
{
    // Timings are test inputs here: the writers' arithmetic and layout are what is checked.
    private static BenchReport Report(bool pytorchAvailable)
    {
        var config = FlopCountTests.Tiny;
        var stepFlops = new PartFlops("step", new FlopCount(1e9, 0.5e9), new FlopCount(2e9, 0.5e9));   // 4 GFLOP
        var lossFlops = new PartFlops("loss", new FlopCount(0, 1e8), new FlopCount(0, 1e8));
        var ours = new Measurement("blurvae", "cpu", 2) { Command = "blurvae bench" };
        // 3 steps: 300 KiB allocated, 3 gen-0 collections of which 1 reached gen 1, 6 pool items, 30 loops, 9 switches.
        ours.AddRepeat([30, 10, 20], 512, new StepCounters(300 * 1024, 3, 1, 0, 6, 30, 0, 9));
        var oursLoss = new Measurement("blurvae", "cpu", 2) { RepeatMs = [2, 2], StepMs = [2, 2] };
        Measurement theirs = pytorchAvailable
            ? new Measurement("pytorch", "cpu", 2) { RepeatMs = [200, 400], StepMs = [200, 400], Version = "1.13.1", Command = "python3 bench.py --part step" }
            : Measurement.Unavailable("pytorch", "cpu", 2, "bench.py exited with code 1: ModuleNotFoundError: No module named 'torch'");
        var theirsLoss = pytorchAvailable
            ? new Measurement("pytorch", "cpu", 2) { RepeatMs = [30], StepMs = [30], Version = "1.13.1" }
            : Measurement.Unavailable("pytorch", "cpu", 2, "no torch");
        var options = new BenchOptions { Configs = [config], SgemmGflops = 200 };
        var machine = new MachineInfo("Test CPU", 2, "Linux", ".NET 10.0.0", "x64") { Isa = "AVX2", GemmKernel = "Avx2" };
        return new BenchReport(options, machine, new DateTimeOffset(2026, 1, 2, 3, 4, 0, TimeSpan.Zero), "blurvae bench --config tiny",
            [new PartResult(config, "step", stepFlops, ours, [theirs]), new PartResult(config, "loss", lossFlops, oursLoss, [theirsLoss])]);
    }

    [Test]
    public void JsonCarriesStatisticsRatiosAndMachine()
    {
        var json = JsonNode.Parse(Report(true).ToJson().ToJsonString())!;
        var step = json["results"]![0]!;
        var ours = step["engines"]![0]!;
        var theirs = step["engines"]![1]!;
        Assert.Multiple(() =>
        {
            Assert.That(ours["median_ms"]!.GetValue<double>(), Is.EqualTo(20));
            Assert.That(ours["min_ms"]!.GetValue<double>(), Is.EqualTo(10));
            Assert.That(ours["max_ms"]!.GetValue<double>(), Is.EqualTo(30));
            Assert.That(ours["p10_ms"]!.GetValue<double>(), Is.EqualTo(12).Within(1e-12));
            Assert.That(ours["p90_ms"]!.GetValue<double>(), Is.EqualTo(28).Within(1e-12));
            Assert.That(ours["spread_p90_p10"]!.GetValue<double>(), Is.EqualTo(28.0 / 12).Within(1e-12));
            Assert.That(ours["peak_working_set_mib"]!.GetValue<double>(), Is.EqualTo(512));
            Assert.That(theirs["peak_working_set_mib"], Is.Null);
            Assert.That(ours["per_step"]!["managed_allocated_bytes"]!.GetValue<double>(), Is.EqualTo(100 * 1024));
            Assert.That(ours["per_step"]!["gc_gen0"]!.GetValue<double>(), Is.EqualTo(1));
            Assert.That(ours["per_step"]!["gc_gen2"]!.GetValue<double>(), Is.EqualTo(0));
            Assert.That(ours["per_step"]!["cpu_parallel_loops"]!.GetValue<double>(), Is.EqualTo(10));
            Assert.That(ours["per_step"]!["voluntary_context_switches"]!.GetValue<double>(), Is.EqualTo(3));
            Assert.That(theirs["per_step"], Is.Null);
            Assert.That(json["machine"]!["isa"]!.GetValue<string>(), Is.EqualTo("AVX2"));
            Assert.That(json["machine"]!["gemm_kernel"]!.GetValue<string>(), Is.EqualTo("Avx2"));
            Assert.That(ours["images_per_second"]!.GetValue<double>(), Is.EqualTo(2 / 0.020).Within(1e-9));
            Assert.That(ours["gflops"]!.GetValue<double>(), Is.EqualTo(4 / 0.020).Within(1e-9));
            Assert.That(ours["sgemm_percent"]!.GetValue<double>(), Is.EqualTo(100).Within(1e-9));
            Assert.That(theirs["median_ms"]!.GetValue<double>(), Is.EqualTo(300));
            Assert.That(step["speed_up"]!.GetValue<double>(), Is.EqualTo(15).Within(1e-12));
            Assert.That(step["flops"]!["total"]!.GetValue<double>(), Is.EqualTo(4e9));
            Assert.That(json["machine"]!["cpu"]!.GetValue<string>(), Is.EqualTo("Test CPU"));
            Assert.That(json["machine"]!["torch"]!.GetValue<string>(), Is.EqualTo("1.13.1"));
            Assert.That(json["command"]!.GetValue<string>(), Is.EqualTo("blurvae bench --config tiny"));
            Assert.That(json["loss_share"]!.AsArray().Select(s => s!["share"]!.GetValue<double>()), Is.EqualTo(new[] { 0.1, 0.1 }).Within(1e-12));
        });
    }

    [Test]
    public void UnavailableEngineHasAReasonAndNoNumbers()
    {
        var report = Report(false);
        var theirs = report.ToJson()["results"]![0]!["engines"]![1]!;
        Assert.That(theirs["available"]!.GetValue<bool>(), Is.False);
        Assert.That(theirs["reason"]!.GetValue<string>(), Does.Contain("No module named 'torch'"));
        Assert.That(theirs["median_ms"], Is.Null);
        Assert.That(report.Results[0].SpeedUp, Is.Null);
        Assert.That(report.ToMarkdown(), Does.Contain("unavailable: bench.py exited with code 1"));
    }

    [Test]
    public void MarkdownHasOneRowPerEngineAndPart()
    {
        var md = Report(true).ToMarkdown();
        var rows = md.Split('\n').Where(l => l.StartsWith("| tiny", StringComparison.Ordinal)).ToList();
        Assert.That(rows, Has.Count.EqualTo(4));
        Assert.That(rows[0], Does.Contain("BlurVae").And.Contain("| 20.0 |").And.Contain("12.0–28.0").And.Contain("| 2.33 |").And.Contain("| 512 | 100.0 | 1.00/0.33/0.00 |").And.Contain("100.0 %").And.Not.Contain("×"));
        Assert.That(rows[1], Does.Contain("PyTorch 1.13.1").And.Contain("| 300 |").And.Contain("| 15.00× |"), "the ratio sits on their row");
        Assert.That(md, Does.Contain("Command: `blurvae bench --config tiny`"));
        Assert.That(md, Does.Contain("Test CPU (AVX2), 2 logical cores, GEMM kernel Avx2"));
        Assert.That(md, Does.Contain("10.0 % of blurvae's step time"));
    }

    [Test]
    public void ConsoleTableListsEveryRow()
    {
        var writer = new StringWriter();
        Report(false).WriteTable(writer);
        var text = writer.ToString();
        Assert.That(text, Does.Contain("BlurVae").And.Contain("unavailable").And.Contain("GFLOP/s").And.Contain("tiny"));
        Assert.That(text, Does.Not.Contain("\u001b["), "no ANSI escapes when writing to a file");
    }

    [Test]
    public void WritersCreateTheFolders()
    {
        var dir = Path.Combine(Path.GetTempPath(), "blurvae-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = Report(true);
            report.WriteJson(Path.Combine(dir, "a", "bench.json"));
            report.WriteMarkdown(Path.Combine(dir, "b", "bench.md"));
            Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "a", "bench.json")))!["results"]!.AsArray(), Has.Count.EqualTo(2));
            Assert.That(File.ReadAllText(Path.Combine(dir, "b", "bench.md")), Is.EqualTo(report.ToMarkdown()));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
