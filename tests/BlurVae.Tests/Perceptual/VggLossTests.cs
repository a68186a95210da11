using BlurVae.Training.Perceptual;

namespace BlurVae.Tests.Perceptual;

/// <summary>
/// The VGG loss in training (a run of steps lowers it), on the device backend (value and gradient equal the CPU's),
/// and the weights file's every failure: a message naming the flag, the file and the export command.
/// </summary>
[TestFixture, Category("Losses")]
public class VggLossTests
{
    private string _dir = null!;

    [SetUp] public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("blurvae-vgg-loss-").FullName;
    [TearDown] public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    [Test, Category("Training")]
    public void TrainingStepsLowerTheVggLoss()
    {
        string weights = PerceptualWeightsFile.Write(Path.Combine(_dir, "vgg.safetensors"), "vgg");
        var options = new TrainOptions
        {
            Data = "embedded", Channels = [8, 16], Latent = 8, MlpHidden = 32, KernelSize = 5, Loss = LossKind.Vgg, VggWeights = weights,
            Beta = 1e-3, BatchSize = 16, Lr = 2e-3, LrKernel = 2e-3, Epochs = 1,
        };
        var trainer = new Trainer(options, 1, 32);
        trainer.PrepareLoss();
        var x = DatasetCatalog.EmbeddedFashionMnist().Subset(Enumerable.Range(0, 16).ToArray()).PadTo(32).GetBatch(Enumerable.Range(0, 16).ToArray(), DType.Float32);
        var loss = new VggPerceptualLoss(LpipsWeights.Load(weights, "--vgg-weights", requiredVariant: "vgg"));
        // In training mode (batch statistics): a dozen steps barely move batch norm's running statistics.
        double LossAtMean()
        {
            using var _ = GradMode.NoGrad();
            return loss.Compute(x, trainer.Vae.Decode(trainer.Vae.Encode(x).Mu)).Item();
        }
        double before = LossAtMean();
        var noise = new Random(2);
        StepResult step = default;
        for (int i = 0; i < 12; i++)
            step = trainer.Step(x, Tensor.Randn([16, 8], noise), epoch: 0);
        double after = LossAtMean();
        Assert.That(double.IsFinite(step.Reconstruction) && step.Reconstruction > 0, Is.True, $"reconstruction term {step.Reconstruction}");
        Assert.That(after, Is.LessThan(0.9 * before), $"VGG loss at z = μ {before:F4} → {after:F4}");
    }

    [Test, Category("Parity")]
    public void DeviceBackendMatchesTheCpu()
    {
        var device = Parity.GpuTarget.NewBackend();
        var x = Tensor.Uniform([2, 3, 16, 16], -1, 1, new Random(3));
        var xHatValues = Tensor.Uniform([2, 3, 16, 16], -1, 1, new Random(4)).ToFloatArray();
        (float Loss, float[] Grad) Run(IBackend? backend)
        {
            var network = PerceptualWeightsFile.Network("vgg", 5, DType.Float32, backend);
            var vgg = new VggPerceptualLoss(new Lpips(network, PerceptualWeightsFile.Heads(network, 6)));
            var xHat = Tensor.FromArray(xHatValues, [2, 3, 16, 16], DType.Float32, backend);
            xHat.RequiresGrad = true;
            var value = vgg.Compute(Tensor.FromArray(x.ToFloatArray(), [2, 3, 16, 16], DType.Float32, backend), xHat).Keep();
            value.Backward();
            return ((float)value.Item(), xHat.Grad!.ToFloatArray());
        }
        var (cpuLoss, cpuGrad) = Run(null);
        var (deviceLoss, deviceGrad) = Run(device);
        Assert.That(deviceLoss, Is.EqualTo(cpuLoss).Within(1e-4).Percent);
        float scale = cpuGrad.Max(Math.Abs);
        for (int i = 0; i < cpuGrad.Length; i++)
            Assert.That(deviceGrad[i], Is.EqualTo(cpuGrad[i]).Within(2e-4 * scale), $"gradient element {i}");
    }

    [Test]
    public void LoadsEitherVariantAndNamesIt()
    {
        Assert.That(LpipsWeights.Load(PerceptualWeightsFile.Write(Path.Combine(_dir, "a.safetensors"), "alex"), "--lpips-weights").Name, Is.EqualTo("lpips-alex"));
        Assert.That(LpipsWeights.Load(PerceptualWeightsFile.Write(Path.Combine(_dir, "v.safetensors"), "vgg"), "--lpips-weights").Name, Is.EqualTo("lpips-vgg"));
    }

    [TestCase("missing", "does not exist")]
    [TestCase("alex", "holds AlexNet features")]
    [TestCase("no-heads", "has no LPIPS head 'lin0.weight'")]
    [TestCase("three-heads", "has no LPIPS head 'lin3.weight'")]
    [TestCase("negative", "negative weights in head 'lin0.weight'")]
    [TestCase("garbage", "not a safetensors file")]
    [TestCase("classifier", "has no tensor 'features.0.weight'")]
    public void BadWeightsNameTheFlagAndTheFix(string kind, string problem)
    {
        string path = Path.Combine(_dir, kind + ".safetensors");
        switch (kind)
        {
            case "alex": PerceptualWeightsFile.Write(path, "alex"); break;
            case "no-heads": PerceptualWeightsFile.Write(path, "vgg", heads: 0); break;
            case "three-heads": PerceptualWeightsFile.Write(path, "vgg", heads: 3); break;
            case "negative": PerceptualWeightsFile.Write(path, "vgg", sign: -1); break;
            case "garbage": File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); break;
            case "classifier": SafeTensors.Write(path, [("fc.weight", Tensor.Zeros([2, 2]))]); break;
        }
        var e = Assert.Catch(() => LpipsWeights.Load(path, "--vgg-weights", requiredVariant: "vgg"))!;
        Assert.That(CliErrors.IsUserError(e), Is.True, e.ToString());
        Assert.That(e.Message, Does.Contain("--vgg-weights").And.Contain(problem).And.Contain("export-weights.py lpips-vgg"));
    }
}
