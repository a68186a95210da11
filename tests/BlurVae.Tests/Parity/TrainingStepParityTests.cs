// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The full training step, emulated CUDA against CPU, on Fashion-MNIST images at the architectures' 32×32: the
/// shipped <see cref="TrainingStepParity"/> (which `blurvae selftest` also runs, on smaller synthetic images) compares
/// the losses, the gradients each optimiser stepped with, every parameter after the Adam step and the BatchNorm
/// running statistics.
/// </summary>
[TestFixture, Category("Parity")]
public class TrainingStepParityTests
{
    private const int Batch = 16, Side = 32;

    private static float[]? _images;

    private static float[] Images => _images ??= DatasetCatalog.EmbeddedFashionMnist().Subset(Enumerable.Range(0, Batch).ToArray()).PadTo(Side)
        .GetBatch(Enumerable.Range(0, Batch).ToArray(), backend: CpuBackend.Instance).ToFloatArray();

    [TestCase(LossKind.Wiener), TestCase(LossKind.L2)]
    public void OneTrainingStepMatchesTheCpuBackend(LossKind loss)
    {
        var setup = new TrainingStepSetup
        {
            Loss = loss, Side = Side, Batch = Batch, Channels = [8, 16], Latent = 8, MlpHidden = 32, KernelSize = 5, Lr = 2e-3, Images = Images,
        };
        // A device of its own: the trainer's tensors are freed by finalizers, which KernelsLeakCheck would count on the shared one.
        var result = TrainingStepParity.Run(GpuTarget.NewBackend(), CpuBackend.Instance, setup, TestContext.Out);
        Assert.That(result.Failures.Select(f => f.Line), Is.Empty, result.Summary);
        Assert.That(result.Checks.Select(c => c.Op), Has.Member($"train_step[{loss.ToString().ToLowerInvariant()}].vae_parameters_after_adam"));
    }
}
