namespace BlurVae.Tests.Benchmarks;

[TestFixture, Category("Benchmarks")]
public class BenchConfigTests
{
    [Test]
    public void SelectNamesEachConfigurationAndAll()
    {
        Assert.That(BenchConfig.Select("fashion32").Single(), Is.SameAs(BenchConfig.Fashion32));
        Assert.That(BenchConfig.Select("celeba64").Single(), Is.SameAs(BenchConfig.Celeba64));
        Assert.That(BenchConfig.Select("all"), Is.EqualTo(new[] { BenchConfig.Fashion32, BenchConfig.Celeba64 }));
    }

    [Test]
    public void UnknownConfigurationNamesTheFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => BenchConfig.Select("mnist"));
        Assert.That(e!.Message, Does.Contain("--config").And.Contain("mnist").And.Contain("fashion32"));
    }

    [Test]
    public void Fashion32BuildsTheIssuesModel()
    {
        var runner = new OursRunner(BenchConfig.Fashion32, CpuBackend.Instance);
        var t = runner.Trainer;
        Assert.That(t.Vae, Is.InstanceOf<ArchitectureA>());
        Assert.That((t.Options.BatchSize, t.Channels, t.Side, t.Vae.Latent, t.KernelSize), Is.EqualTo((64, 1, 32, 32, 11)));
        var shapes = t.Vae.NamedParameters().ToDictionary(p => p.Name, p => p.Value.Shape);
        Assert.That(shapes["encoder.0.weight"], Is.EqualTo(new[] { 32, 1, 3, 3 }));
        Assert.That(shapes["encoder.9.weight"], Is.EqualTo(new[] { 256, 128, 3, 3 }));
        Assert.That(shapes["encoder_mlp.0.weight"], Is.EqualTo(new[] { 512, 256 * 2 * 2 }));
        Assert.That(shapes["encoder_mlp.2.weight"], Is.EqualTo(new[] { 64, 512 }));
        Assert.That(shapes["decoder.0.weight"], Is.EqualTo(new[] { 256, 128, 4, 4 }));
        Assert.That(shapes["decoder.12.weight"], Is.EqualTo(new[] { 1, 32, 3, 3 }));
        Assert.That(t.Generator.NamedParameters().Single(p => p.Name == "output.weight").Value.Shape, Is.EqualTo(new[] { 121, 1000 }));
        // Wiener from the first step: no warm-up epochs.
        Assert.That(t.WienerActiveAt(0), Is.True);
    }

    [Test]
    public void Celeba64OptionsMatchTheIssue()
    {
        var o = BenchConfig.Celeba64.ToTrainOptions();
        Assert.That(o.Channels, Is.EqualTo(new[] { 64, 128, 256, 512 }));
        Assert.That((o.Arch, o.Side, o.Latent, o.KernelSize, o.BatchSize, o.Loss, o.WarmupEpochs), Is.EqualTo((Architecture.A, 64, 256, 11, 64, LossKind.Wiener, 0)));
        Assert.That(BenchConfig.Celeba64.ImageChannels, Is.EqualTo(3));
        o.Validate();
    }

    [Test]
    public void ReferenceArgumentsFollowBenchPyInterface()
    {
        var args = PyTorchRunner.Arguments(BenchConfig.Fashion32, "step", "cpu", 2, 1, 3, compile: false);
        Assert.That(string.Join(" ", args), Is.EqualTo(
            "--arch A --image-channels 1 --side 32 --channels 32,64,128,256 --latent 32 --kernel 11 --batch 64 --loss wiener --mlp-hidden 512 " +
            "--device cpu --threads 2 --warmup 1 --steps 3 --part step --dtype float32 --seed 1"));
        Assert.That(PyTorchRunner.Arguments(BenchConfig.Celeba64 with { Loss = LossKind.L2 }, "loss", "cuda", 2, 1, 3, compile: true),
            Does.Contain("--compile").And.Contain("l2").And.Contain("cuda"));
    }
}
