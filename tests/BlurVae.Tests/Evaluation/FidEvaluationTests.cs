using BlurVae.Training.Experiments;
using BlurVae.Training.Perceptual;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Evaluation;

/// <summary>
/// FID in `blurvae eval` and in the experiment tables: without weights a note says how to get them; a missing or
/// wrong --inception-weights file is a user error naming the flag; with (random) Inception weights eval prints fid-rec
/// and fid-gen; an experiment whose runs carry validation FID selects β by it and shows FID columns.
/// </summary>
[TestFixture, Category("Evaluation")]
public class FidEvaluationTests
{
    private string _dir = "", _run = "";

    [OneTimeSetUp]
    public void TrainATinyRun()
    {
        _dir = Directory.CreateTempSubdirectory("blurvae-fid-").FullName;
        _run = Path.Combine(_dir, "run");
        var (code, _, err) = Invoke("train", "--data", "embedded", "--channels", "8,16", "--latent", "8", "--mlp-hidden", "32",
            "--kernel-size", "5", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "8", "--max-images", "16",
            "--max-test-images", "6", "--grid-images", "4", "--device", "cpu", "--out", _run);
        Assert.That(code, Is.EqualTo(0), err);
    }

    [OneTimeTearDown]
    public void RemoveTheRun() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void WithoutWeightsANoteSaysHowToGetThem()
    {
        var (code, output, err) = Invoke("eval", "--run", _run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("FID skipped").And.Contain("--inception-weights").And.Contain("export-weights.py fid-inception"));
        Assert.That(output, Does.Not.Contain("fid-rec"));
    }

    [Test]
    public void AMissingWeightsFileIsAUserErrorNamingTheFlag()
    {
        var (code, _, err) = Invoke("eval", "--run", _run, "--inception-weights", Path.Combine(_dir, "no-such.safetensors"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("--inception-weights").And.Contain("no-such.safetensors").And.Contain("export-weights.py"));
    }

    [Test]
    public void AWeightsFileWithoutInceptionTensorsIsAUserError()
    {
        string path = Path.Combine(_dir, "not-inception.safetensors");
        SafeTensors.Write(path, [("x", Tensor.Zeros([2]))]);
        var (code, _, err) = Invoke("eval", "--run", _run, "--inception-weights", path);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("Conv2d_1a_3x3.conv.weight").And.Contain("export-weights.py fid-inception"));
    }

    [Test]
    public void StatisticsArePool3OfEveryImage()
    {
        // Grey 32×32 batches of 3 and 2 images (chunks of Fid.ChunkImages), clamped, repeated to RGB and resized to 299.
        var fid = new Fid(new FidInceptionV3(new Random(4)), CpuBackend.Instance);
        var rng = new Random(5);
        var stats = fid.Statistics([Tensor.Randn([3, 1, 32, 32], rng), Tensor.Randn([2, 1, 32, 32], rng)]);
        Assert.That(stats.Count, Is.EqualTo(5));
        Assert.That(stats.Mean, Has.Length.EqualTo(FidInceptionV3.FeatureCount));
        Assert.That(stats.Mean.All(double.IsFinite) && stats.Mean.Any(v => v != 0), Is.True);
    }

    // Minutes on a 2-core machine: FID's 2048-d matrix square roots are managed MathNet eigendecompositions (4 per
    // eval), whatever the image count; run it by name: --filter "FullyQualifiedName~WithWeightsEvalPrintsFid".
    [Test, Explicit("minutes: four 2048×2048 eigendecompositions in managed MathNet")]
    public void WithWeightsEvalPrintsFidOfReconstructionsAndSamples()
    {
        string path = Path.Combine(_dir, "inception.safetensors");
        var network = new FidInceptionV3(new Random(3));
        SafeTensors.Write(path, network.NamedParameters().Concat(network.NamedBuffers()));
        var (code, output, err) = Invoke("eval", "--run", _run, "--inception-weights", path);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("fid-rec").And.Contain("fid-gen").And.Not.Contain("FID skipped"));
        Assert.That(output, Does.Contain("FD-FMNIST")); // FD-FMNIST stays as it is, beside FID
    }

    [Test]
    public void ValidationFidSelectsBetaAndAddsFidColumns()
    {
        var spec = ExperimentSpec.Parse("""{ "name": "t", "data": "embedded", "methods": [ { "name": "L2", "loss": "l2" } ], "betas": [0.5, 1], "seeds": [1] }""", "t.json");
        Dictionary<string, double> M(double fidGen) => new() { ["psnr"] = 20, ["ssim"] = 0.5, ["fd-fmnist-rec"] = 1, ["fd-fmnist-gen"] = 2, ["fid-rec"] = 30, ["fid-gen"] = fidGen };
        // FD-FMNIST prefers β = 0.5, FID prefers β = 1: FID decides.
        var results = new List<RunResult>
        {
            new("L2", 0.5, 1, _dir, 1, M(50), ValidationFdGen: 1.0, ValidationFidGen: 60.0),
            new("L2", 1, 1, _dir, 1, M(40), ValidationFdGen: 2.0, ValidationFidGen: 45.0),
        };
        var report = new ExperimentReport(spec, _dir, results);
        Assert.That(report.SelectedBetas()["L2"], Is.EqualTo(1.0));
        string markdown = report.Markdown();
        Assert.That(markdown, Does.Contain("lowest validation FID gen").And.Contain("| FID rec | FID gen |"));
        Assert.That(report.Csv(), Does.StartWith("method,beta,selected,seeds,validation_fid_gen").And.Contain("fid-gen_mean"));
        // Without validation FID, FD-FMNIST selects and no FID column appears.
        var withoutFid = results.Select(r => r with { ValidationFidGen = null, Metrics = r.Metrics.Where(kv => !kv.Key.StartsWith("fid")).ToDictionary() }).ToList();
        var fdReport = new ExperimentReport(spec, _dir, withoutFid);
        Assert.That(fdReport.SelectedBetas()["L2"], Is.EqualTo(0.5));
        Assert.That(fdReport.Markdown(), Does.Contain("lowest validation FD-FMNIST gen").And.Not.Contain("FID rec"));
    }
}
