using System.CommandLine;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Benchmarks;

[TestFixture, Category("Benchmarks")]
public class BenchCliTests
{
    [TestCase(new[] { "--config", "mnist" }, "--config")]
    [TestCase(new[] { "--device", "tpu" }, "--device")]
    [TestCase(new[] { "--threads", "0" }, "--threads")]
    [TestCase(new[] { "--repeats", "0" }, "--repeats")]
    [TestCase(new[] { "--steps", "0" }, "--steps")]
    [TestCase(new[] { "--warmup", "-1" }, "--warmup")]
    [TestCase(new[] { "--against", "jax" }, "--against")]
    [TestCase(new[] { "--part", "decoder" }, "--part")]
    [TestCase(new[] { "--loss", "bce" }, "--loss")]
    [TestCase(new[] { "--sgemm-gflops", "-5" }, "--sgemm-gflops")]
    [TestCase(new[] { "--compile", "--against", "none" }, "--compile")]
    public void BadFlagIsAnErrorNamingIt(string[] flags, string named)
    {
        var (code, _, err) = Invoke(["bench", .. flags]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain(named));
    }

    [Test]
    public void ExplicitCudaWithoutAGpuExitsNonZeroInsteadOfTimingTheCpu()
    {
        if (BlurVae.Native.CudaAvailability.Probe().IsAvailable) Assert.Ignore("A GPU is usable here: bench --device cuda would time it.");
        var (code, output, err) = Invoke("bench", "--device", "cuda", "--against", "none", "--part", "loss", "--repeats", "1", "--steps", "1", "--warmup", "0");
        Assert.That(code, Is.EqualTo(1), output + err);
        Assert.That(err, Does.Contain("--device cuda needs a usable NVIDIA GPU").And.Contain("Nothing was run"));
        Assert.That(output, Does.Not.Contain("ms/step"));
    }

    [Test]
    public void HelpListsTheFlags()
    {
        var (code, output, _) = Invoke("bench", "--help");
        Assert.That(code, Is.EqualTo(0));
        foreach (var flag in new[] { "--config", "--device", "--threads", "--repeats", "--steps", "--warmup", "--against", "--compile", "--json", "--markdown", "--sgemm-gflops" })
            Assert.That(output, Does.Contain(flag));
        Assert.That(output, Does.Contain("[default: fashion32]"));
    }

    [Test]
    public void LossPartRunWritesJsonAndMarkdown()
    {
        var dir = Path.Combine(Path.GetTempPath(), "blurvae-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            string json = Path.Combine(dir, "bench.json"), md = Path.Combine(dir, "bench.md");
            var (code, output, err) = Invoke("bench", "--part", "loss", "--against", "none", "--repeats", "1", "--steps", "1", "--warmup", "0",
                                             "--threads", "1", "--json", json, "--markdown", md);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("fashion32").And.Contain("ms/step"));
            var doc = JsonNode.Parse(File.ReadAllText(json))!;
            Assert.That(doc["command"]!.GetValue<string>(), Does.StartWith("blurvae bench --part loss"));
            Assert.That(doc["results"]![0]!["config"]!.GetValue<string>(), Is.EqualTo("fashion32"));
            Assert.That(doc["results"]![0]!["engines"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(File.ReadAllText(md), Does.Contain("| fashion32 | loss | BlurVae | cpu | 1 |"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
