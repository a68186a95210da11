using BlurVae.Tests.Perceptual;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Cli;

/// <summary>`train --loss vgg --vgg-weights`, `eval --lpips-weights` end to end, and their errors (exit 1, the flag and the fix named).</summary>
[TestFixture, Category("Cli")]
public class PerceptualCliTests
{
    private string _dir = null!;

    [SetUp] public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("blurvae-perceptual-cli-").FullName;
    [TearDown] public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    private string[] Small(string run) =>
        ["train", "--data", "embedded", "--channels", "4,8", "--latent", "4", "--mlp-hidden", "16", "--kernel-size", "5", "--epochs", "1",
         "--max-images", "32", "--max-test-images", "16", "--batch-size", "16", "--grid-images", "2", "--out", Path.Combine(_dir, run)];

    [TestCase(new[] { "--loss", "vgg" }, "--vgg-weights FILE")]
    [TestCase(new[] { "--loss", "vgg", "--vgg-weights", "nowhere.safetensors" }, "does not exist")]
    [TestCase(new[] { "--loss", "l2", "--vgg-weights", "nowhere.safetensors" }, "contradicts --loss l2")]
    public void TrainWithoutUsableVggWeightsFails(string[] args, string problem)
    {
        var (code, _, err) = Invoke([.. Small("run"), .. args]);
        Assert.That(code, Is.EqualTo(CliErrors.ExitUserError), err);
        Assert.That(err, Does.Contain("--vgg-weights").And.Contain(problem));
        Assert.That(err, Does.Contain("export-weights.py").Or.Contain("--loss vgg"));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void TrainWithTheVggLossThenEvalWithAndWithoutLpips()
    {
        string vgg = PerceptualWeightsFile.Write(Path.Combine(_dir, "vgg.safetensors"), "vgg");
        string alex = PerceptualWeightsFile.Write(Path.Combine(_dir, "alex.safetensors"), "alex");
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = Invoke([.. Small("run"), "--loss", "vgg", "--vgg-weights", vgg, "--beta", "0.001"]);
        Assert.That(code, Is.Zero, err + output);

        (code, output, err) = Invoke("eval", "--run", run);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("LPIPS skipped: no weights given; pass --lpips-weights FILE"));

        (code, output, err) = Invoke("eval", "--run", run, "--lpips-weights", alex);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Match(@"lpips-alex\s+\d"));
        Assert.That(output, Does.Contain("LPIPS v0.1 (AlexNet features"));
        Assert.That(File.ReadAllText(Path.Combine(run, "eval.md")), Does.Contain("| lpips-alex |"));

        (code, _, err) = Invoke("eval", "--run", run, "--lpips-weights", Path.Combine(_dir, "nowhere.safetensors"));
        Assert.That(code, Is.EqualTo(CliErrors.ExitUserError));
        Assert.That(err, Does.Contain("--lpips-weights").And.Contain("export-weights.py lpips-alex"));
    }
}
