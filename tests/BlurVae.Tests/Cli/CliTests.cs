using System.CommandLine;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.Cli;

[TestFixture, Category("Cli")]
public class CliTests : Data.TempDirectoryTest
{
    [Test]
    public void HelpListsEveryTrainFlagWithItsDefault()
    {
        var (code, output, _) = Invoke("train", "--help");
        Assert.That(code, Is.EqualTo(0));
        var flags = new TrainFlags();
        foreach (var option in flags.All())
            Assert.That(output, Does.Contain(option.Name), option.Name);
        Assert.That(output, Does.Contain("[default: wiener]"));
        Assert.That(output, Does.Contain("[default: 0.025]"));
        Assert.That(output, Does.Contain("[default: large]"));
    }

    [Test]
    public void UnknownFlagFails()
    {
        var (code, _, err) = Invoke("train", "--epoch", "3");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(err, Does.Contain("--epoch"));
    }

    [TestCase("--loss", "mse2")]
    [TestCase("--device", "tpu")]
    public void BadChoiceIsAUsageErrorNamingTheValue(string flag, string value)
    {
        var (code, _, err) = Invoke("train", flag, value);
        Assert.That(code, Is.EqualTo(CliErrors.ExitUsageError));
        Assert.That(err, Does.Contain(value));
    }

    [TestCase(new[] { "--loss", "l2", "--eps", "0.5" }, "--eps")]
    [TestCase(new[] { "--fixed-sigma", "1.5", "--detach-kernel" }, "--detach-kernel")]
    [TestCase(new[] { "--kernel-size", "4" }, "--kernel-size")]
    [TestCase(new[] { "--eps", "tiny" }, "--eps")]
    [TestCase(new[] { "--channels", "8,x" }, "--channels")]
    [TestCase(new[] { "--batch-size", "1" }, "--batch-size")]
    [TestCase(new[] { "--device", "cuda", "--dtype", "f64" }, "--dtype f64")]
    public void ContradictoryOrBadValuesFailWithAClearMessage(string[] args, string flag)
    {
        var (code, _, err) = Invoke(["train", "--out", Path.Combine(Path.GetTempPath(), "blurvae-never"), .. args]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain(flag));
        Assert.That(Directory.Exists(Path.Combine(Path.GetTempPath(), "blurvae-never")), Is.False, "a failed validation must not create the run folder");
    }

    [Test]
    public void ConfigFileSetsOptionsAndFlagsOverrideIt()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "epochs": 7, "loss": "l1", "channels": [4, 8], "beta": 0.5 }""");
            var flags = new TrainFlags();
            var cmd = new Command("train");
            foreach (var o in flags.All()) cmd.Options.Add(o);
            var options = flags.Bind(cmd.Parse(["--config", file, "--beta", "2"]));
            Assert.That(options.Epochs, Is.EqualTo(7));
            Assert.That(options.Loss, Is.EqualTo(LossKind.L1));
            Assert.That(options.Channels, Is.EqualTo(new[] { 4, 8 }));
            Assert.That(options.Beta, Is.EqualTo(2.0));
            Assert.That(options.Latent, Is.EqualTo(new TrainOptions().Latent));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void ConfigFileWithUnknownKeyFailsNamingTheFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "epochz": 7 }""");
            var (code, _, err) = Invoke("train", "--config", file);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain(file).And.Contain("epochz"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void MalformedDataFileFailsNamingTheFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"blurvae-bad-{Guid.NewGuid():N}-images-idx3-ubyte");
        File.WriteAllBytes(file, [0, 0, 8, 3, 0, 0, 0, 5]);   // IDX header claiming 5 images, then nothing
        try
        {
            var (code, _, err) = Invoke("train", "--data", file, "--out", Path.Combine(Path.GetTempPath(), "blurvae-never"));
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain(file));
            Assert.That(err, Does.Not.Contain("   at "), "a stack trace instead of a message");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void EvalOfAMissingRunSaysWhatToDo()
    {
        var (code, _, err) = Invoke("eval", "--run", Path.Combine(Path.GetTempPath(), "no-such-blurvae-run"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("train first"));
    }

    [Test]
    public void TrainOnTheEmulatedCudaBackendRunsTheGpuCodePath()
    {
        string run = PathOf("run");
        var (code, output, err) = Invoke("train", "--data", "embedded", "--channels", "4,8", "--latent", "4", "--mlp-hidden", "16",
            "--kernel-size", "3", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "8", "--max-images", "16",
            "--max-test-images", "8", "--grid-images", "2", "--device", "emulated", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("--device emulated").And.Contain("psnr"));
    }

    [Test]
    public void TrainThenEvalSampleAndReconstruct()
    {
        string run = PathOf("run");
        var (code, output, err) = Invoke("train", "--data", "embedded", "--channels", "8,16", "--latent", "8", "--mlp-hidden", "32",
            "--kernel-size", "5", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "16", "--max-images", "48",
            "--grid-images", "4", "--device", "cuda", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("--device cuda:").And.Contain("psnr"));
        // Without a GPU (as on CI) one line says why, and the run trains on the CPU.
        if (!BlurVae.Native.CudaAvailability.Probe().IsAvailable)
            Assert.That(output, Does.Contain("using the CPU backend"));
        (code, output, err) = Invoke("eval", "--run", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("ssim").And.Contain("hf_energy_ratio").And.Contain("kernel_width"));
        (code, _, err) = Invoke("sample", "--run", run, "--count", "5");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(Path.Combine(run, "samples-prior.png")), Is.True);
        (code, _, err) = Invoke("reconstruct", "--run", run, "--count", "3");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(Path.Combine(run, "reconstruct.png")), Is.True);
        Assert.That(File.Exists(Path.Combine(run, "reconstruct-kernels.png")), Is.True);
    }
}
