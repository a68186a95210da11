using BlurVae.Training.Experiments;
using BlurVae.Tests.Cli;

namespace BlurVae.Tests.Evaluation;

[TestFixture, Category("Evaluation")]
public class ExperimentTests
{
    private const string TinySpec = """
        { "name": "tiny", "data": "embedded",
          "train": { "channels": [8, 16], "latent": 8, "mlp-hidden": 32, "kernel-size": 5, "epochs": 3, "warmup-epochs": 0,
                     "batch-size": 16, "max-images": 48, "max-test-images": 32, "grid-images": 4 },
          "methods": [ { "name": "L2", "loss": "l2" }, { "name": "Wiener", "loss": "wiener" } ],
          "betas": [0.5, 1], "seeds": [1], "validation-images": 32 }
        """;

    [Test]
    public void NegativeThreadsIsAUserError()
    {
        var (code, _, err) = CliRunner.Invoke("experiment", "experiments/fashion-mnist.json", "--threads", "-1");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("--threads must be ≥ 0"));
    }

    [Test]
    public void TinyGridEndToEndThenResumes()
    {
        var dir = Directory.CreateTempSubdirectory("blurvae-experiment-");
        try
        {
            string spec = Path.Combine(dir.FullName, "tiny.json"), output = Path.Combine(dir.FullName, "out");
            File.WriteAllText(spec, TinySpec);
            // 1 epoch now (--set overrides the spec), then 2 more on the second call: each run resumes from its checkpoint.
            var (code, text, err) = CliRunner.Invoke("experiment", spec, "--out", output, "--set", "epochs=1");
            Assert.That(code, Is.Zero, err);
            Assert.That(text, Does.Contain("[4/4] Wiener β=1 seed 1").And.Contain("ETA"));
            string[] runs = ["L2/beta-0.5", "L2/beta-1", "Wiener/beta-0.5", "Wiener/beta-1"];
            foreach (var run in runs)
            {
                string folder = Path.Combine(output, "runs", run, "seed-1");
                Assert.That(File.Exists(Path.Combine(folder, "checkpoint.safetensors")) && File.Exists(Path.Combine(folder, RunResult.FileName)), Is.True, folder);
            }
            string markdown = File.ReadAllText(Path.Combine(output, ExperimentReport.MarkdownFile));
            Assert.Multiple(() =>
            {
                Assert.That(markdown, Does.Contain("| L2 |").And.Contain("| Wiener |").And.Contain("FD-FMNIST gen").And.Contain("−ELBO ours ε=0.5"));
                Assert.That(markdown, Does.Not.Contain("FID"));
                Assert.That(System.Text.RegularExpressions.Regex.Matches(markdown, @"\(selected\)").Count, Is.EqualTo(2), "one β per method");
                Assert.That(File.ReadAllLines(Path.Combine(output, ExperimentReport.CsvFile)), Has.Length.EqualTo(5));
            });
            string html = File.ReadAllText(Path.Combine(output, ExperimentReport.HtmlFile));
            Assert.That(System.Text.RegularExpressions.Regex.Matches(html, "<img ").Count, Is.EqualTo(4 * ExperimentReport.RunImages.Length));
            Assert.That(html, Does.Contain("<table>").And.Contain("runs/Wiener/beta-1/seed-1/kernels.png"));
            AssertRendersTablesAndImages(Path.Combine(output, ExperimentReport.HtmlFile));

            // Same command again: nothing is trained or evaluated again.
            (code, text, err) = CliRunner.Invoke("experiment", spec, "--out", output, "--set", "epochs=1");
            Assert.That(code, Is.Zero, err);
            Assert.That(text, Does.Not.Contain("training epochs"));
            Assert.That(System.Text.RegularExpressions.Regex.Matches(text, "already trained").Count, Is.EqualTo(4));

            // Longer: every run continues from epoch 1.
            (code, text, err) = CliRunner.Invoke("experiment", spec, "--out", output, "--set", "epochs=2", "--set", "max-test-images=16");
            Assert.That(code, Is.Zero, err);
            Assert.That(text, Does.Contain("training epochs 2–2"));
            Assert.That(File.ReadAllLines(Path.Combine(output, "runs", "L2", "beta-1", "seed-1", "metrics.jsonl")), Has.Length.EqualTo(2));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Chromium renders the report: the screenshot (kept beside the report as report.png) has the table's grid lines near
    /// the top and, further down, the runs' images, whose dark Fashion-MNIST backgrounds no text-only page would have.
    /// </summary>
    private static void AssertRendersTablesAndImages(string html)
    {
        using var shot = HeadlessBrowser.Screenshot(html, Path.ChangeExtension(html, ".png"));
        int dark = 0, grey = 0;
        for (int y = 0; y < shot.Height; y += 2)
            for (int x = 0; x < shot.Width; x += 2)
            {
                var c = shot.GetPixel(x, y);
                if (c.Red < 40 && c.Green < 40 && c.Blue < 40) dark++;
                else if (c.Red is > 150 and < 220 && c.Red == c.Green && c.Green == c.Blue) grey++;
            }
        TestContext.Out.WriteLine($"screenshot {shot.Width}×{shot.Height}: {dark} dark and {grey} grey sampled pixels");
        Assert.That(dark, Is.GreaterThan(2000), "the run images (dark backgrounds) should be rendered");
        Assert.That(grey, Is.GreaterThan(200), "the tables' borders should be rendered");
    }

    [TestCase("{\"methods\": [{\"name\": \"L2\", \"loss\": \"l2\"}], \"oops\": 1}", "unknown key 'oops'")]
    [TestCase("{\"methods\": []}", "'methods' must be a non-empty array")]
    [TestCase("{\"methods\": [{\"name\": \"L2\", \"beta\": 2}]}", "method 'L2' sets 'beta'")]
    [TestCase("{\"methods\": [{\"name\": \"L2\"}, {\"name\": \"L2\"}]}", "'L2' appears twice")]
    [TestCase("{\"methods\": [{\"name\": \"L2\"}], \"betas\": [1, 1]}", "'betas' lists a value twice")]
    public void BadSpecsNameTheKey(string json, string message) =>
        Assert.That(() => ExperimentSpec.Parse(json, "spec.json"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("spec.json").And.Message.Contains(message));

    [Test]
    public void DataAsAParameterAndBadOptionsAreErrorsOfTheCommand()
    {
        var dir = Directory.CreateTempSubdirectory("blurvae-experiment-");
        try
        {
            string spec = Path.Combine(dir.FullName, "s.json");
            File.WriteAllText(spec, "{\"data\": null, \"methods\": [{\"name\": \"L2\", \"loss\": \"l2\"}]}");
            var (code, _, err) = CliRunner.Invoke("experiment", spec, "--out", Path.Combine(dir.FullName, "o"));
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain("pass --data PATH"));
            File.WriteAllText(spec, "{\"data\": \"embedded\", \"methods\": [{\"name\": \"L2\", \"loss\": \"l2\", \"epochs\": 0}]}");
            (code, _, err) = CliRunner.Invoke("experiment", spec, "--out", Path.Combine(dir.FullName, "o"));
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain("method 'L2'").And.Contain("--epochs"));
            (code, _, err) = CliRunner.Invoke("experiment", spec, "--set", "epochs");
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain("--set 'epochs'"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

[TestFixture, Category("Evaluation")]
public class ShippedSpecTests
{
    [TestCase("fashion-mnist", 8, 4, 0)]
    [TestCase("celeba64", 100, 10, 11)]
    [TestCase("celeba256", 200, 10, 41)]
    [TestCase("cifar10", 100, 10, 11)]
    [TestCase("hcp", 400, 20, 11)]
    public void EveryCellIsAValidRun(string name, int epochs, int warmup, int kernelSize)
    {
        string path = Path.Combine(Repository.Root(), "experiments", name + ".json");
        var spec = ExperimentSpec.Load(path).WithOverrides(name == "fashion-mnist" ? null : "/data/placeholder", new Dictionary<string, System.Text.Json.Nodes.JsonNode?>());
        Assert.That(spec.Methods.Select(m => m.Name), Is.SupersetOf(new[] { "L2", "L1", "BCE", "FFL", "Watson-DFT", "Wiener (ours)" }));
        Assert.That(spec.Seeds, Has.Count.EqualTo(3));
        foreach (var m in spec.Methods)
            foreach (var b in spec.Betas)
            {
                var o = spec.OptionsFor(m, b, 1, "out");
                Assert.That((o.Epochs, o.WarmupEpochs, o.KernelSize), Is.EqualTo((epochs, warmup, kernelSize)), $"{name}: {m.Name}");
            }
        if (name != "fashion-mnist")
            Assert.That(() => ExperimentSpec.Load(path).OptionsFor(spec.Methods[0], 1, 1, "out"), Throws.ArgumentException.With.Message.Contains("--data PATH"));
    }
}
