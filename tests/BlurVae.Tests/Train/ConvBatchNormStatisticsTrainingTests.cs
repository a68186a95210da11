namespace BlurVae.Tests.Train;

/// <summary>
/// The Conv → BatchNorm statistics fusion (Sequential.FuseStatistics: the convolutions gather the batch statistics
/// while their output is in cache, the BatchNorms take them) against the same networks run layer by layer: the
/// statistics are merged from chunks, so they round differently, but the training steps' losses, parameters and
/// running statistics agree within float32's rounding (float64: to ~1e-12), for both architectures.
/// </summary>
[TestFixture, Category("Training")]
public class ConvBatchNormStatisticsTrainingTests
{
    [TestCase(Architecture.A, "f32", 2e-5), TestCase(Architecture.B, "f32", 2e-5), TestCase(Architecture.A, "f64", 1e-12)]
    public void FusedStatisticsStepsMatchTheLayerByLayerSteps(Architecture arch, string dtype, double rtol)
    {
        // 32 images of 16×16 with 8 and 16 channels: the first encoder layer's CPU convolution runs in several chunks,
        // so the statistics really are merged from parts.
        var options = new TrainOptions
        {
            Data = "embedded", Arch = arch, Channels = [8, 16], Latent = 4, MlpHidden = 16, KernelSize = 5, Dtype = dtype,
            Loss = LossKind.Wiener, WarmupEpochs = 0, BatchSize = 32, Lr = 2e-3, LrKernel = 2e-3, Epochs = 1,
        };
        var fused = new Trainer(options, 1, 16);
        var pairs = new Trainer(options, 1, 16);
        foreach (var s in pairs.Vae.Modules().OfType<Sequential>()) s.FuseActivations = false;
        var type = dtype == "f64" ? DType.Float64 : DType.Float32;
        var x = Tensor.Randn([32, 1, 16, 16], new Random(3), type).Tanh();
        for (int step = 0; step < 2; step++)
        {
            var ra = fused.Step(x, Tensor.Randn([32, 4], new Random(step), type), epoch: 0);
            var rb = pairs.Step(x, Tensor.Randn([32, 4], new Random(step), type), epoch: 0);
            double[] a = [ra.Loss, ra.Reconstruction, ra.Kl, ra.BlurKernelFit], b = [rb.Loss, rb.Reconstruction, rb.Kl, rb.BlurKernelFit];
            for (int i = 0; i < a.Length; i++)
                Assert.That(a[i], Is.EqualTo(b[i]).Within(rtol * (1 + Math.Abs(b[i]))), $"loss term {i} at step {step}");
        }
        var fusedState = fused.Vae.NamedParameters().Concat(fused.Vae.NamedBuffers()).ToArray();
        var pairState = pairs.Vae.NamedParameters().Concat(pairs.Vae.NamedBuffers()).ToArray();
        // A convolution's bias right before a BatchNorm has gradient 0 in exact arithmetic (the mean removes it): its
        // computed gradient is rounding noise, which Adam scales up to steps of lr whatever its size, so those biases
        // are not comparable between two roundings, nor the running means of those BatchNorms, which track them.
        // Everything downstream of them is (the BatchNorm removes them).
        var unidentifiable = BiasesBeforeBatchNorm(fused.Vae).ToHashSet();
        int compared = 0;
        for (int i = 0; i < fusedState.Length; i++)
        {
            if (unidentifiable.Contains(fusedState[i].Value)) continue;
            compared++;
            double[] f = fusedState[i].Value.ToDoubleArray(), p = pairState[i].Value.ToDoubleArray();
            for (int j = 0; j < f.Length; j++)
                Assert.That(f[j], Is.EqualTo(p[j]).Within(rtol * 50 * (1 + Math.Abs(p[j]))), $"{fusedState[i].Name}[{j}]");
        }
        Assert.That(compared, Is.GreaterThan(2 * unidentifiable.Count), "most of the state is compared");
    }

    private static IEnumerable<Tensor> BiasesBeforeBatchNorm(Module model)
    {
        foreach (var s in model.Modules().OfType<Sequential>())
            for (int i = 0; i + 1 < s.Layers.Count; i++)
                if (s.Layers[i + 1] is BatchNorm bn && (s.Layers[i] switch { Conv2d c => c.Bias, ConvTranspose2d t => t.Bias, _ => null }) is { } bias)
                {
                    yield return bias;
                    yield return bn.RunningMean;
                }
    }
}
