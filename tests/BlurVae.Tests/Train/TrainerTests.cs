namespace BlurVae.Tests.Train;

[TestFixture, Category("Training")]
public class TrainerTests
{
    // A small but real configuration: 32×32 Fashion-MNIST, two encoder blocks, latent 8, kernel 5.
    private static TrainOptions Small(LossKind loss = LossKind.Wiener, int warmup = 0) => new()
    {
        Data = "embedded",
        Channels = [8, 16],
        Latent = 8,
        MlpHidden = 32,
        KernelSize = 5,
        Loss = loss,
        WarmupEpochs = warmup,
        BatchSize = 16,
        Lr = 2e-3,
        LrKernel = 2e-3,
        Epochs = 1,
        MaxImages = 256,
        GridImages = 4,
    };

    private static ImageDataset Images(int count) =>
        DatasetCatalog.EmbeddedFashionMnist().Subset(Enumerable.Range(0, count).ToArray()).PadTo(32);

    private static double TrainingSetL2(Trainer t, ImageDataset data)
    {
        using var _ = GradMode.NoGrad();
        t.Vae.Eval();
        double total = 0;
        int n = 0;
        foreach (var x in data.Batches(64, 0, 0, shuffle: false))
        {
            var (mu, _) = t.Vae.Encode(x);
            total += L2Loss.Compute(x, t.Vae.Decode(mu)).Item() * x.Shape[0];
            n += x.Shape[0];
        }
        t.Vae.Train();
        return total / n;
    }

    [TestCase(LossKind.Wiener), TestCase(LossKind.L2)]
    public void OneEpochLowersTheReconstructionError(LossKind loss)
    {
        var data = Images(256);
        var t = new Trainer(Small(loss), 1, 32);
        double before = TrainingSetL2(t, data);
        var noise = Trainer.NoiseFor(1, 0);
        StepResult last = default;
        foreach (var x in data.Batches(16, 1, 0, dropLast: true))
            last = t.Step(x, Tensor.Randn([x.Shape[0], 8], noise), epoch: 0);
        double after = TrainingSetL2(t, data);
        Assert.That(after, Is.LessThan(0.8 * before), $"L2 per image {before:F2} → {after:F2}");
        Assert.That(last.WienerActive, Is.EqualTo(loss == LossKind.Wiener));
        Assert.That(double.IsFinite(last.BlurKernelFit), Is.True);
    }

    [Test]
    public void WarmUpUsesL2AndGeneratorAlreadyTrains()
    {
        var t = new Trainer(Small(warmup: 1), 1, 32);
        var x = Images(16).GetBatch(Enumerable.Range(0, 16).ToArray());
        var genBefore = t.Generator.Parameters().First().ToDoubleArray();
        var r = t.Step(x, Tensor.Randn([16, 8], new Random(1)), epoch: 0);
        Assert.That(r.WienerActive, Is.False);
        Assert.That(r.Reconstruction, Is.GreaterThan(0));
        Assert.That(t.Generator.Parameters().First().ToDoubleArray(), Is.Not.EqualTo(genBefore), "G_γ must train during the warm-up");
        Assert.That(t.WienerActiveAt(1), Is.True);
    }

    [Test]
    public void ElboGradientReachesTheEncoderThroughTheKernelUnlessDetached()
    {
        // Same weights, same batch: the encoder gradient differs only by the path through k = G_γ(z).
        var x = Images(16).GetBatch(Enumerable.Range(0, 16).ToArray());
        double[] EncoderGrad(bool detach)
        {
            var t = new Trainer(Small() with { DetachKernel = detach }, 1, 32);
            var output = t.Vae.Run(x, Tensor.Randn([16, 8], new Random(3)));
            var k = t.KernelFor(output.Z);
            WienerBlurLoss.Compute(x, output.Reconstruction, k).Backward();
            return t.Vae.NamedParameters().First(p => p.Name == "encoder.0.weight").Value.Grad!.ToDoubleArray();
        }
        var attached = EncoderGrad(false);
        var detached = EncoderGrad(true);
        double diff = attached.Zip(detached, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(diff, Is.GreaterThan(1e-6), "the kernel path contributed nothing to the encoder gradient");
    }

    [Test]
    public void KernelStepDoesNotMoveTheVaeAndElboStepDoesNotMoveTheGenerator()
    {
        var t = new Trainer(Small(), 1, 32);
        var x = Images(16).GetBatch(Enumerable.Range(0, 16).ToArray());
        // After one full step both moved; check the ELBO optimiser owns only VAE parameters and vice versa.
        t.Step(x, Tensor.Randn([16, 8], new Random(1)), epoch: 0);
        var vaeParams = new HashSet<Tensor>(t.Vae.Parameters(), ReferenceEqualityComparer.Instance);
        var genParams = new HashSet<Tensor>(t.Generator.Parameters(), ReferenceEqualityComparer.Instance);
        Assert.That(t.OptVae.Parameters.All(vaeParams.Contains), Is.True);
        Assert.That(t.OptKernel.Parameters.All(genParams.Contains), Is.True);
        Assert.That(vaeParams.Overlaps(genParams), Is.False);
    }

    [Test]
    public void NonFiniteLossStopsWithAClearMessage()
    {
        var t = new Trainer(Small(), 1, 32);
        var w = t.Vae.Parameters().First();
        var v = w.ToDoubleArray();
        v[0] = double.NaN;
        w.Backend.Upload(w.Buffer, v);
        var x = Images(16).GetBatch(Enumerable.Range(0, 16).ToArray());
        var ex = Assert.Throws<NonFiniteLossException>(() => t.Step(x, Tensor.Randn([16, 8], new Random(1)), epoch: 0));
        Assert.That(ex!.Message, Does.Contain("NaN").And.Contain("last good checkpoint"));
    }

    [Test]
    public void CheckpointRoundTripGivesIdenticalOutputs()
    {
        var dir = Directory.CreateTempSubdirectory("blurvae-ckpt-");
        try
        {
            var options = Small();
            var t = new Trainer(options, 1, 32);
            var x = Images(16).GetBatch(Enumerable.Range(0, 16).ToArray());
            t.Step(x, Tensor.Randn([16, 8], new Random(1)), epoch: 0);
            t.Epoch = 1;
            string path = Path.Combine(dir.FullName, TrainingCheckpoint.FileName);
            TrainingCheckpoint.Save(t, path);

            var (saved, channels, side) = TrainingCheckpoint.ReadHeader(path);
            Assert.That(saved, Is.EqualTo(options).Using<TrainOptions>((a, b) => a.ToJson() == b.ToJson()));
            var u = new Trainer(saved with { Seed = 99 }, channels, side);   // different initialisation, overwritten by the load
            TrainingCheckpoint.Load(u, path);
            Assert.That(u.Epoch, Is.EqualTo(1));
            Assert.That(u.OptVae.StepCount, Is.EqualTo(1));
            using var _ = GradMode.NoGrad();
            t.Vae.Eval();
            u.Vae.Eval();
            Assert.That(u.Vae.Forward(x).ToFloatArray(), Is.EqualTo(t.Vae.Forward(x).ToFloatArray()));
            var (mu, _) = t.Vae.Encode(x);
            Assert.That(u.Generator.Forward(mu).ToFloatArray(), Is.EqualTo(t.Generator.Forward(mu).ToFloatArray()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void BlurKernelGeneratorGivesUnitSumPositiveKernels()
    {
        var g = new BlurKernelGenerator(8, 5, new Random(1), dtype: DType.Float64);
        var k = g.Forward(Tensor.Randn([3, 8], new Random(2), DType.Float64));
        Assert.That(k.Shape, Is.EqualTo(new[] { 3, 5, 5 }));
        var v = k.ToDoubleArray();
        Assert.That(v, Is.All.GreaterThan(0));
        for (int i = 0; i < 3; i++) Assert.That(v.Skip(i * 25).Take(25).Sum(), Is.EqualTo(1.0).Within(1e-12));
        Assert.Throws<ArgumentException>(() => new BlurKernelGenerator(8, 4, new Random(1)));
    }

    [TestCase(Architecture.A, 32, new[] { 8, 16 }), TestCase(Architecture.B, 32, new[] { 4, 8, 8 }), TestCase(Architecture.A, 64, new int[0])]
    public void ArchitecturesMapImagesToImages(Architecture arch, int side, int[] channels)
    {
        var t = new Trainer(Small() with { Arch = arch, Channels = channels, Latent = 6 }, 3, side);
        var x = Tensor.Randn([2, 3, side, side], new Random(1)).Tanh();
        var output = t.Vae.Run(x, Tensor.Randn([2, 6], new Random(2)));
        Assert.That(output.Reconstruction.Shape, Is.EqualTo(new[] { 2, 3, side, side }));
        Assert.That(output.Z.Shape, Is.EqualTo(new[] { 2, 6 }));
        Assert.That(output.Statistics.Shape, Is.EqualTo(new[] { 2, 12 }));
        Assert.That(output.Reconstruction.ToDoubleArray(), Is.All.InRange(-1.0, 1.0));
    }

    [Test]
    public void DefaultKernelSizeFollowsThePaper()
    {
        var o = new TrainOptions();
        Assert.That(o.EffectiveKernelSize(32), Is.EqualTo(11));
        Assert.That(o.EffectiveKernelSize(64), Is.EqualTo(11));
        Assert.That(o.EffectiveKernelSize(256), Is.EqualTo(41));
        Assert.That((o with { KernelSize = 7 }).EffectiveKernelSize(256), Is.EqualTo(7));
        Assert.That(new Trainer(Small() with { KernelSize = 0 }, 1, 32).Generator.KernelSize, Is.EqualTo(11));
    }

    [Test]
    public void DefaultChannelsFollowThePaper()
    {
        Assert.That(ArchitectureA.DefaultChannels(64, 1.0), Is.EqualTo(new[] { 64, 128, 256, 512 }));
        Assert.That(ArchitectureA.DefaultChannels(256, 1.0), Is.EqualTo(new[] { 64, 128, 256, 512, 512, 512 }));
        Assert.That(ArchitectureA.DefaultChannels(32, 0.5), Is.EqualTo(new[] { 32, 64, 128 }));
    }
}
