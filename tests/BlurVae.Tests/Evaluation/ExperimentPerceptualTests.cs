using BlurVae.Tests.Cli;
using BlurVae.Tests.Perceptual;
using BlurVae.Training.Experiments;

namespace BlurVae.Tests.Evaluation;

/// <summary>
/// `blurvae experiment` with a VGG-loss method (--vgg-weights goes to it alone) and --lpips-weights (an LPIPS column,
/// also for runs evaluated before the weights were given); a VGG method without weights stops before any training.
/// </summary>
[TestFixture, Category("Evaluation")]
public class ExperimentPerceptualTests
{
    private const string Spec = """
        { "name": "perceptual", "data": "embedded",
          "train": { "channels": [4, 8], "latent": 4, "mlp-hidden": 16, "kernel-size": 5, "epochs": 1, "warmup-epochs": 0,
                     "batch-size": 16, "max-images": 32, "max-test-images": 16, "grid-images": 2 },
          "methods": [ { "name": "L2", "loss": "l2" }, { "name": "VGG", "loss": "vgg" } ],
          "betas": [0.001], "seeds": [1], "validation-images": 16 }
        """;

    private string _dir = null!;

    [SetUp] public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("blurvae-experiment-perceptual-").FullName;
    [TearDown] public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void VggMethodAndLpipsColumn()
    {
        string spec = Path.Combine(_dir, "perceptual.json"), output = Path.Combine(_dir, "out");
        File.WriteAllText(spec, Spec);
        string vgg = PerceptualWeightsFile.Write(Path.Combine(_dir, "vgg.safetensors"), "vgg");
        string alex = PerceptualWeightsFile.Write(Path.Combine(_dir, "alex.safetensors"), "alex");

        var (code, _, err) = CliRunner.Invoke("experiment", spec, "--out", output);
        Assert.That(code, Is.EqualTo(CliErrors.ExitUserError));
        Assert.That(err, Does.Contain("method 'VGG'").And.Contain("--vgg-weights FILE"));
        Assert.That(Directory.Exists(Path.Combine(output, "runs")), Is.False, "nothing trained");

        (code, var text, err) = CliRunner.Invoke("experiment", spec, "--out", output, "--vgg-weights", vgg);
        Assert.That(code, Is.Zero, err);
        Assert.That(text, Does.Contain("LPIPS skipped"));
        Assert.That(File.ReadAllText(Path.Combine(output, "runs", "VGG", "beta-0.001", "seed-1", "config.json")), Does.Contain($"\"vgg-weights\": \"{vgg}\""));
        Assert.That(File.ReadAllText(Path.Combine(output, "runs", "L2", "beta-0.001", "seed-1", "config.json")), Does.Contain("\"vgg-weights\": null"));
        Assert.That(File.ReadAllText(Path.Combine(output, ExperimentReport.MarkdownFile)), Does.Not.Contain("LPIPS"));

        // The weights given later: nothing is trained again, every run is evaluated again for its LPIPS.
        (code, text, err) = CliRunner.Invoke("experiment", spec, "--out", output, "--vgg-weights", vgg, "--lpips-weights", alex);
        Assert.That(code, Is.Zero, err);
        Assert.That(text, Does.Not.Contain("training epochs"));
        string markdown = File.ReadAllText(Path.Combine(output, ExperimentReport.MarkdownFile));
        Assert.That(markdown, Does.Contain("| LPIPS-Alex |"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(markdown, @"\| (L2|VGG) \| 0\.001[^\n]*\| \d+\.\d{4} ± \d+\.\d{4} \|\n").Count, Is.EqualTo(4), markdown);
        Assert.That(File.ReadAllLines(Path.Combine(output, ExperimentReport.CsvFile))[0], Does.Contain("lpips-alex_mean"));
    }
}
