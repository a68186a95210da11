namespace BlurVae.Tests.Train;

/// <summary>Whole runs in a temporary folder: artifacts, bit-exact resume, and a diverged run keeping its checkpoint.</summary>
[TestFixture, Category("Training")]
public class TrainingRunTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("blurvae-run-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private TrainOptions Options(string name, int epochs) => new()
    {
        Data = "embedded",
        Channels = [8, 16],
        Latent = 8,
        MlpHidden = 32,
        KernelSize = 5,
        WarmupEpochs = 1,
        BatchSize = 16,
        Lr = 1e-3,
        Epochs = epochs,
        MaxImages = 64,
        GridImages = 4,
        Out = Path.Combine(_dir, name),
    };

    [Test]
    public void RunWritesEveryArtifact()
    {
        var run = TrainingRun.Open(Options("a", 2), resume: false, TextWriter.Null);
        var table = run.Train();
        Assert.That(table, Is.Not.Null);
        foreach (var f in new[] { "checkpoint.safetensors", "metrics.jsonl", "config.json", "reconstructions.png", "samples.png", "kernels.png", "loss.png" })
            Assert.That(File.Exists(Path.Combine(run.Folder, f)), Is.True, f);
        var metrics = TrainingRun.ReadMetrics(run.Folder);
        Assert.That(metrics.Select(m => m["epoch"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(metrics.Select(m => m["wiener_active"]!.GetValue<bool>()), Is.EqualTo(new[] { false, true }));
        Assert.That(Directory.GetFiles(run.Folder, "*.tmp"), Is.Empty, "a temporary file was left behind");
    }

    [Test]
    public void ResumeContinuesBitForBit()
    {
        TrainingRun.Open(Options("straight", 2), false, TextWriter.Null).Train();
        TrainingRun.Open(Options("resumed", 1), false, TextWriter.Null).Train();
        TrainingRun.Open(Options("resumed", 2), true, TextWriter.Null).Train();
        var (a, _) = SafeTensors.Read(Path.Combine(_dir, "straight", TrainingCheckpoint.FileName));
        var (b, metaB) = SafeTensors.Read(Path.Combine(_dir, "resumed", TrainingCheckpoint.FileName));
        Assert.That(metaB["epoch"], Is.EqualTo("2"));
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (name, entry) in a)
            Assert.That(b[name].Values, Is.EqualTo(entry.Values), $"tensor {name} differs after resuming");
    }

    [Test]
    public void ExistingRunIsNotOverwrittenWithoutResume()
    {
        TrainingRun.Open(Options("a", 1), false, TextWriter.Null).Train();
        var ex = Assert.Throws<BlurVae.Training.Errors.UserError>(() => TrainingRun.Open(Options("a", 1), false, TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("--resume"));
    }

    [Test]
    public void DivergedRunKeepsTheLastGoodCheckpoint()
    {
        TrainingRun.Open(Options("a", 1), false, TextWriter.Null).Train();
        string checkpoint = Path.Combine(_dir, "a", TrainingCheckpoint.FileName);
        var good = File.ReadAllBytes(checkpoint);
        var run = TrainingRun.Open(Options("a", 3), true, TextWriter.Null);
        var w = run.Trainer.Vae.Parameters().First();
        var v = w.ToDoubleArray();
        Array.Fill(v, double.PositiveInfinity);
        w.Backend.Upload(w.Buffer, v);
        Assert.Throws<NonFiniteLossException>(() => run.Train());
        Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(good), "the checkpoint of epoch 1 was replaced");
    }
}
