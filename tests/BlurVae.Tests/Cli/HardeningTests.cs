using System.Buffers.Binary;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Cli;

/// <summary>
/// The hostile inputs of issue 12: each ends with exit code 1 and a message naming the flag, file or field (no stack
/// trace), oversized requests are refused before any allocation, and training survives what it must (negative losses,
/// changed options on resume, leftovers of a killed run). One tiny run is trained once and copied per test.
/// </summary>
[TestFixture, Category("Cli")]
public class HardeningTests
{
    private string _dir = "";
    private string _run = "";

    private static readonly string[] Tiny =
    [
        "--data", "embedded", "--channels", "4,8", "--latent", "4", "--mlp-hidden", "16", "--kernel-size", "3",
        "--warmup-epochs", "0", "--batch-size", "8", "--max-images", "16", "--max-test-images", "40", "--grid-images", "2", "--device", "cpu",
    ];

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _dir = Directory.CreateTempSubdirectory("blurvae-hardening-").FullName;
        _run = Path.Combine(_dir, "run");
        var (code, _, err) = Invoke(["train", .. Tiny, "--epochs", "1", "--out", _run]);
        Assert.That(code, Is.EqualTo(0), err);
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(_dir, recursive: true);

    /// <summary>The tiny options without <paramref name="flags"/> and their values, to give them others.</summary>
    private static string[] TinyWithout(params string[] flags) =>
        Tiny.Where((t, i) => !flags.Contains(t) && (i == 0 || !flags.Contains(Tiny[i - 1]))).ToArray();

    private string CopyRun()
    {
        string copy = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(_run)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        return copy;
    }

    private static void AssertUserError((int Code, string Out, string Err) r, params string[] named)
    {
        Assert.That(r.Code, Is.EqualTo(CliErrors.ExitUserError), r.Out + r.Err);
        Assert.That(r.Err, Does.StartWith("blurvae: "));
        Assert.That(r.Err, Does.Not.Contain("   at ").And.Not.Contain("Unhandled exception").And.Not.Contain("(Parameter '").And.Not.Contain("Actual value"));
        foreach (var n in named) Assert.That(r.Err, Does.Contain(n));
    }

    // ---- the error path ----

    [Test]
    public void InternalErrorsSayItIsABugAndShowTheTrace()
    {
        var err = new StringWriter();
        int code = CliErrors.Run(() => throw new InvalidOperationException("boom"), err, verbose: false);
        Assert.That(code, Is.EqualTo(CliErrors.ExitInternalError));
        Assert.That(err.ToString(), Does.Contain("this is a bug").And.Contain("boom").And.Contain("   at "));
    }

    [Test]
    public void VerboseShowsTheTraceOfAUserError()
    {
        var r = Invoke("eval", "--run", Path.Combine(_dir, "missing"), "--verbose");
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Err, Does.Contain("train first").And.Contain("   at "));
    }

    [Test]
    public void AnUnparsableCommandLineIsAUsageError() =>
        Assert.That(Invoke("train", "--epochz", "3").Code, Is.EqualTo(CliErrors.ExitUsageError));

    // ---- defect 1 and the limits ----

    [Test]
    public void GridImagesAreClampedToTheTestImages()
    {
        string run = Path.Combine(_dir, "grid");
        var (code, _, err) = Invoke(["train", .. TinyWithout("--grid-images"), "--epochs", "1", "--grid-images", "64", "--out", run]);
        Assert.That(code, Is.EqualTo(0), err);
        using var samples = SKBitmap.Decode(Path.Combine(run, "samples.png"));
        // 40 test images of 32 px at scale 3 with 2-px gaps: one row of at most 40 cells, not 64.
        Assert.That(samples.Width, Is.LessThanOrEqualTo(2 + 40 * (96 + 2)));
    }

    [TestCase("--latent", "100000000", "--latent")]
    [TestCase("--side", "4096", "--side")]
    public void OversizedRequestsAreRefusedBeforeWork(string flag, string value, string named)
    {
        string run = Path.Combine(_dir, "huge" + flag);
        AssertUserError(Invoke(["train", .. TinyWithout(flag), flag, value, "--out", run]), named, "GiB", "available");
        Assert.That(Directory.Exists(run), Is.False);
    }

    [Test]
    public void ARunThatDoesNotFitInMemoryIsRefusedWithTheEstimate()
    {
        // 10 MiB holds the padded data but not 33 M weights with their gradients and Adam moments; nothing that size is allocated.
        MemoryBudget.Override = 10 << 20;
        try
        {
            string run = Path.Combine(_dir, "budget");
            var r = Invoke(["train", .. TinyWithout("--latent", "--mlp-hidden"), "--latent", "4096", "--mlp-hidden", "4096", "--epochs", "1", "--out", run]);
            AssertUserError(r, "needs about", "available", "--latent");
            Assert.That(Directory.Exists(run), Is.False);
        }
        finally
        {
            MemoryBudget.Override = null;
        }
    }

    // ---- defect 2: negative losses ----

    [Test]
    public void TrainingWithEpsSurvivesNegativeLossesAndResumes()
    {
        string run = Path.Combine(_dir, "eps");
        string[] args = [.. Tiny, "--eps", "0.5", "--lr", "0.01", "--out", run];
        var (code, _, err) = Invoke(["train", .. args, "--epochs", "2"]);
        Assert.That(code, Is.EqualTo(0), err);
        var losses = TrainingRun.ReadMetrics(run).Select(m => m["train_loss"]!.GetValue<double>()).ToArray();
        Assert.That(losses, Has.Length.EqualTo(2));
        Assert.That(losses.Min(), Is.LessThan(0), "the case needs a negative loss (the log-determinant term) to test anything");
        Assert.That(File.Exists(Path.Combine(run, "loss.png")), Is.True);
        (code, _, err) = Invoke(["train", .. args, "--epochs", "3", "--resume"]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(TrainingCheckpoint.ReadHeader(Path.Combine(run, TrainingCheckpoint.FileName)).Options.Epochs, Is.EqualTo(3));
    }

    // ---- defect 3: stack traces ----

    private static readonly Dictionary<string, Func<byte[], byte[]>> CheckpointDamage = new()
    {
        ["truncated"] = b => b[..(b.Length / 2)],
        ["empty"] = _ => [],
        ["huge header length"] = b => { var c = (byte[])b.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(c, ulong.MaxValue / 3); return c; },
        ["invalid JSON header"] = b => { var c = (byte[])b.Clone(); c[8] = (byte)'!'; return c; },
        ["F16 tensor"] = b => Replace(b, "\"F32\"", "\"F16\""),
        ["missing tensor"] = b => Replace(b, "vae.encoder.0.weight", "vae.encoder.0.weighx"),
        ["wrong shape"] = b => RewriteHeader(b, h => h["vae.encoder.0.bias"]!["shape"] = new JsonArray(2, 2)),
    };

    private static byte[] Replace(byte[] file, string from, string to)
    {
        string text = Encoding.Latin1.GetString(file);
        Assert.That(text, Does.Contain(from));
        return Encoding.Latin1.GetBytes(text.Replace(from, to));
    }

    // A new header (with its length) before the same data section, so only the edited field is wrong.
    private static byte[] RewriteHeader(byte[] file, Action<JsonObject> edit)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, length))!.AsObject();
        edit(header);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var copy = new byte[8 + json.Length + file.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(copy, (ulong)json.Length);
        json.CopyTo(copy, 8);
        file.AsSpan(8 + length).CopyTo(copy.AsSpan(8 + json.Length));
        return copy;
    }

    [TestCaseSource(nameof(CheckpointDamageNames))]
    public void DamagedCheckpointsAreErrorsNamingTheFile(string damage)
    {
        string run = CopyRun();
        string checkpoint = Path.Combine(run, TrainingCheckpoint.FileName);
        File.WriteAllBytes(checkpoint, CheckpointDamage[damage](File.ReadAllBytes(checkpoint)));
        AssertUserError(Invoke("eval", "--run", run), checkpoint);
        AssertUserError(Invoke(["train", .. Tiny, "--epochs", "2", "--resume", "--out", run]), checkpoint);
    }

    private static IEnumerable<string> CheckpointDamageNames() => CheckpointDamage.Keys;

    [TestCase("""{ "epochz": 7 }""", "epochz")]
    [TestCase("""{ "epochs": "seven" }""", "epochs", "an integer")]
    [TestCase("""{ "epochs": 7,, }""", "not valid JSON")]
    [TestCase("""[1, 2]""", "not an object")]
    [TestCase("""{ "loss": "mse" }""", "loss", "wiener")]
    public void BadConfigFilesAreErrorsNamingFileAndKey(string json, params string[] named)
    {
        string file = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, json);
        AssertUserError(Invoke("train", "--config", file, "--out", Path.Combine(_dir, "never")), [file, .. named]);
    }

    [Test]
    public void AnEmptyDataFolderIsAnErrorNamingIt()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty-data")).FullName;
        AssertUserError(Invoke("train", "--data", empty, "--out", Path.Combine(_dir, "never")), empty, "--data");
    }

    [Test]
    public void AnUnwritableOutIsAnErrorNamingIt()
    {
        string file = Path.Combine(_dir, "plain-file");
        File.WriteAllText(file, "");
        AssertUserError(Invoke(["train", .. Tiny, "--out", Path.Combine(file, "run")]), "--out", "cannot be written");
    }

    // ---- defect 4: write order, and leftovers of a killed run ----

    [Test]
    public void TheCheckpointIsWrittenBeforeMetricsAndPictures()
    {
        string run = CopyRun();
        // A folder where a picture goes makes writing it fail, as a full disk would.
        File.Delete(Path.Combine(run, "reconstructions.png"));
        Directory.CreateDirectory(Path.Combine(run, "reconstructions.png"));
        var r = Invoke(["train", .. Tiny, "--epochs", "2", "--resume", "--out", run]);
        Assert.That(r.Code, Is.EqualTo(1), r.Err);
        var (tensors, meta) = BlurVae.Training.Io.SafeTensors.Read(Path.Combine(run, TrainingCheckpoint.FileName));
        Assert.That(meta["epoch"], Is.EqualTo("2"), "the checkpoint must hold the epoch whose pictures failed");
        Assert.That(TrainingRun.ReadMetrics(run).Max(m => m["epoch"]!.GetValue<int>()), Is.LessThanOrEqualTo(2));
    }

    [Test]
    public void TemporaryFilesOfAKilledRunAreRemoved()
    {
        string run = CopyRun();
        string stale = Path.Combine(run, $".{TrainingCheckpoint.FileName}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stale, new byte[1000]);
        string keep = Path.Combine(run, ".notes.tmp");
        File.WriteAllText(keep, "not ours");
        var (code, output, err) = Invoke(["train", .. Tiny, "--epochs", "1", "--resume", "--out", run]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(stale), Is.False);
        Assert.That(File.Exists(keep), Is.True, "only the atomic writer's own temporary files are removed");
        Assert.That(output, Does.Contain("Removed 1 temporary file"));
    }

    // ---- defect 5: --resume with changed options ----

    [Test]
    public void ResumeAppliesChangeableOptionsAndRecordsThem()
    {
        string run = CopyRun();
        var (code, output, err) = Invoke(["train", .. Tiny, "--epochs", "2", "--resume", "--lr", "0.003", "--out", run]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("--lr 0.0001 → 0.003"));
        var options = TrainingCheckpoint.ReadHeader(Path.Combine(run, TrainingCheckpoint.FileName)).Options;
        Assert.That(options.Lr, Is.EqualTo(0.003));
        Assert.That(TrainingRun.ReadMetrics(run).Last()["resumed_with"]!.GetValue<string>(), Does.Contain("--lr"));
    }

    [Test]
    public void ResumeRefusesOptionsThatCannotChangeNamingThem()
    {
        string run = CopyRun();
        var r = Invoke(["train", .. TinyWithout("--latent"), "--latent", "5", "--loss", "l2", "--epochs", "2", "--resume", "--out", run]);
        AssertUserError(r, "--latent 4 → 5", "--loss wiener → l2", "--out");
    }

    // ---- defect 6: messages ----

    [TestCase(new[] { "--lr", "Infinity" }, "--lr", "JSON")]
    [TestCase(new[] { "--beta", "NaN" }, "--beta", "JSON")]
    [TestCase(new[] { "--side", "8" }, "--side 8", "--kernel-size 0")]
    [TestCase(new[] { "--side", "16" }, "--side 16", "Parameter")]
    [TestCase(new[] { "--loss", "ffl", "--ffl-weight", "-1" }, "--ffl-weight", "FocalFrequency")]
    public void MessagesNameTheFlag(string[] args, string named, string notShown)
    {
        var r = Invoke(["train", "--data", "embedded", "--out", Path.Combine(_dir, "never"), .. args]);
        AssertUserError(r, named);
        Assert.That(r.Err, Does.Not.Contain(notShown));
    }

    [Test]
    public void OutNamingAFileSaysSo()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        AssertUserError(Invoke(["train", .. Tiny, "--out", file]), "--out", "is a file");
    }

    [Test]
    public void ReconstructingRgbDataOnAGreyRunSaysSo()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "rgb")).FullName;
        for (int i = 0; i < 6; i++)
            File.WriteAllBytes(Path.Combine(folder, $"{i}.png"), BlurVae.Tests.Data.TestFiles.Image(32, 32, (x, y) => new SKColor((byte)(x * 8), (byte)(y * 8), (byte)(i * 40))));
        AssertUserError(Invoke("reconstruct", "--run", _run, "--data", folder), "--data", "channel");
    }

    // ---- pictures and housekeeping ----

    [Test]
    public void ReconstructWritesAGridNotOneRow()
    {
        string run = CopyRun();
        var (code, _, err) = Invoke("reconstruct", "--run", run, "--count", "40");
        Assert.That(code, Is.EqualTo(0), err);
        using var grid = SKBitmap.Decode(Path.Combine(run, "reconstruct.png"));
        // 40 images of 96 px (scale 3): bands of 16, i.e. three input rows above three reconstruction rows.
        Assert.That(grid.Width, Is.LessThan(17 * 98 + 200), $"{grid.Width}×{grid.Height}");
        Assert.That(grid.Height, Is.GreaterThanOrEqualTo(6 * 96), $"{grid.Width}×{grid.Height}");
    }

    [Test]
    public void SampleWritesJpegForJpgAndRefusesOtherExtensions()
    {
        string jpg = Path.Combine(_dir, "s.jpg");
        var (code, _, err) = Invoke("sample", "--run", _run, "--count", "4", "--out", jpg);
        Assert.That(code, Is.EqualTo(0), err);
        var bytes = File.ReadAllBytes(jpg);
        Assert.That(bytes[..3], Is.EqualTo(new byte[] { 0xFF, 0xD8, 0xFF }), "JPEG's SOI marker");
        AssertUserError(Invoke("sample", "--run", _run, "--out", Path.Combine(_dir, "s.gif")), "--out", ".gif", ".png");
    }

    [Test]
    public void EvalSaysWhereItWroteTheTable()
    {
        string run = CopyRun();
        var (code, output, err) = Invoke("eval", "--run", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("Wrote " + Path.Combine(run, "eval.md")));
    }
}
