using System.CommandLine;
using static BlurVae.Tests.Cli.CliRunner;

namespace BlurVae.Tests.SelfTest;

/// <summary>`blurvae selftest`: exit 0 when every check passes, 1 when one fails, 2 when the backend cannot run here.</summary>
[TestFixture, Category("SelfTest")]
public class SelfTestCommandTests
{
    [Test]
    public void EmulatedQuickPassesAndExitsZero()
    {
        var (code, output, error) = Invoke("selftest", "--device", "emulated", "--quick");
        Assert.That(code, Is.EqualTo(SelfTestCommand.ExitPassed), output + error);
        Assert.That(output, Does.Contain("PASS  conv2d.backward_weight"));
        Assert.That(output, Does.Contain("PASS  train_step[wiener].vae_gradients"));
        Assert.That(output, Does.Contain("selftest PASSED: emulated-cuda vs cpu"));
        Assert.That(output, Does.Not.Contain("FAIL"));
    }

    [Test]
    public void CudaWithoutAGpuSaysSoAndExitsTwo()
    {
        var probe = CudaAvailability.Probe();
        var (code, output, error) = Invoke("selftest", "--device", "cuda", "--quick");
        if (probe.IsAvailable)
        {
            // With a GPU the suite runs against it, and must pass.
            Assert.That(code, Is.EqualTo(SelfTestCommand.ExitPassed), output + error);
            return;
        }
        Assert.That(code, Is.EqualTo(SelfTestCommand.ExitUnavailable), output + error);
        Assert.That(error, Does.Contain("--device cuda needs a usable NVIDIA GPU").And.Contain("Nothing was run"));
        Assert.That(output, Does.Not.Contain("PASS"));
    }

    [Test]
    public void AFailingCheckExitsOneAndNamesTheOp()
    {
        var output = new StringWriter();
        int code = SelfTestCommand.RunAgainstCpu(new PerturbingBackend("SoftmaxBackward"), quick: true, seed: 5, output);
        Assert.That(code, Is.EqualTo(SelfTestCommand.ExitFailed));
        Assert.That(output.ToString(), Does.Contain("selftest FAILED").And.Contain("failed: softmax.backward").And.Contain("FAIL  softmax.backward"));
    }

    [Test]
    public void AnUnknownDeviceIsRejected()
    {
        var (code, _, error) = Invoke("selftest", "--device", "tpu");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("tpu"));
    }
}
