namespace BlurVae.Tests.Train;

/// <summary>
/// The fused BatchNorm → LeakyReLU blocks (Sequential.FuseActivations, on by default) against the same
/// networks run layer by layer: on the CPU backend the fused op rounds as the pair does, so two alternating steps
/// leave every parameter, running statistic and loss bit for bit equal, for both architectures (with the
/// convolutions' batch statistics off: those round differently, ConvBatchNormStatisticsTrainingTests).
/// </summary>
[TestFixture, Category("Training")]
public class FusedBlocksTests
{
    [TestCase(Architecture.A), TestCase(Architecture.B)]
    public void FusedStepsEqualTheLayerByLayerSteps(Architecture arch)
    {
        var options = new TrainOptions
        {
            Data = "embedded", Arch = arch, Channels = [4, 8], Latent = 4, MlpHidden = 16, KernelSize = 5,
            Loss = LossKind.Wiener, WarmupEpochs = 0, BatchSize = 8, Lr = 2e-3, LrKernel = 2e-3, Epochs = 1,
        };
        var fused = new Trainer(options, 1, 16);
        foreach (var s in fused.Vae.Modules().OfType<Sequential>()) s.FuseStatistics = false;
        var pairs = new Trainer(options, 1, 16);
        foreach (var s in pairs.Vae.Modules().OfType<Sequential>()) s.FuseActivations = false;
        var x = Tensor.Randn([8, 1, 16, 16], new Random(3)).Tanh();
        for (int step = 0; step < 2; step++)
        {
            var a = fused.Step(x, Tensor.Randn([8, 4], new Random(step)), epoch: 0);
            var b = pairs.Step(x, Tensor.Randn([8, 4], new Random(step)), epoch: 0);
            Assert.That(a, Is.EqualTo(b), $"losses at step {step}");
        }
        var fusedState = fused.Vae.NamedParameters().Concat(fused.Vae.NamedBuffers()).ToArray();
        var pairState = pairs.Vae.NamedParameters().Concat(pairs.Vae.NamedBuffers()).ToArray();
        Assert.That(fusedState.Select(p => p.Name), Is.EqualTo(pairState.Select(p => p.Name)));
        for (int i = 0; i < fusedState.Length; i++)
            Assert.That(fusedState[i].Value.ToDoubleArray(), Is.EqualTo(pairState[i].Value.ToDoubleArray()), fusedState[i].Name);
    }

    // The checkpoint names of the fused blocks are those of the layers: the BatchNorm keeps its index, the LeakyReLU its own.
    [Test]
    public void FusionKeepsTheParameterNames()
    {
        var vae = new Training.Models.ArchitectureA(1, 16, 4, new Random(1), [4, 8], 16);
        Assert.That(vae.NamedParameters().Select(p => p.Name), Does.Contain("encoder.1.weight").And.Contain("encoder.3.weight").And.Contain("decoder.1.bias"));
        Assert.That(vae.NamedBuffers().Select(p => p.Name), Does.Contain("encoder.4.running_var"));
    }
}
