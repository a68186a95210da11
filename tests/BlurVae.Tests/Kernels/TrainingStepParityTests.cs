using BlurVae.Kernels;
using BlurVae.Kernels.Cpu;
using BlurVae.Kernels.Emulated;
using BlurVae.Kernels.Gpu;
using BlurVae.Training.Data;
using BlurVae.Training.Tensors;
using BlurVae.Training.Training;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/KernelOtfTests.cs.
namespace BlurVae.Tests.KernelsEmulated;

/// <summary>
/// The full training step, emulated CUDA against CPU: two trainers with the same options and seed (so the same
/// initial weights), one alternating iteration (ELBO step on the VAE, kernel-fit step on G_γ, each with Adam) on
/// the same batch and noise; then the losses, the gradients each optimiser stepped with, every parameter after the
/// step and the BatchNorm running statistics are compared.
/// </summary>
[TestFixture, Category("Kernels")]
public class TrainingStepParityTests
{
    // The backends sum in different orders (tiled conv kernels and block reductions against im2col + SIMD GEMM),
    // so every value differs by float32 rounding.
    private const double Atol = 1e-5, Rtol = 1e-4;
    // Gradients: relative to the largest gradient of the same model (VAE or G_γ), since some exact gradients are 0
    // (a conv bias followed by BatchNorm) and both backends then return rounding noise of that scale.
    private const double GradScaleTol = 1e-5;
    private const double LossRtol = 1e-4;
    private const double Lr = 2e-3;

    private static TrainOptions Small(LossKind loss) => new()
    {
        Data = "embedded",
        Channels = [8, 16],
        Latent = 8,
        MlpHidden = 32,
        KernelSize = 5,
        Loss = loss,
        WarmupEpochs = 0,
        BatchSize = 16,
        Lr = Lr,
        LrKernel = Lr,
        Epochs = 1,
        MaxImages = 256,
        GridImages = 4,
    };

    private static ImageDataset? _images;

    private static ImageDataset Images => _images ??= DatasetCatalog.EmbeddedFashionMnist().Subset(Enumerable.Range(0, 16).ToArray()).PadTo(32);

    private sealed record Snapshot(StepResult Result, Dictionary<string, (float[] Value, float[] Grad)> Parameters, Dictionary<string, float[]> Buffers);

    private static Snapshot OneStep(LossKind loss, IBackend backend)
    {
        var trainer = new Trainer(Small(loss), 1, 32, backend);
        var x = Images.GetBatch(Enumerable.Range(0, 16).ToArray(), backend: backend);
        var eps = Tensor.Randn([16, 8], new Random(1), backend: backend);
        var result = trainer.Step(x, eps, epoch: 0);
        // Each optimiser zeroes its gradients before its own step, so after Step they still hold what it stepped with.
        var parameters = new Dictionary<string, (float[], float[])>();
        foreach (var (name, value) in trainer.Vae.NamedParameters("vae.").Concat(trainer.Generator.NamedParameters("generator.")))
        {
            Assert.That(value.Backend, Is.SameAs(backend), $"{name} is not on {backend.Name}");
            Assert.That(value.Grad, Is.Not.Null, $"{name} has no gradient after the step");
            parameters.Add(name, (value.ToFloatArray(), value.Grad!.ToFloatArray()));
        }
        var buffers = trainer.Vae.NamedBuffers("vae.").ToDictionary(b => b.Name, b => b.Value.ToFloatArray());
        return new Snapshot(result, parameters, buffers);
    }

    [TestCase(LossKind.Wiener), TestCase(LossKind.L2)]
    public void OneTrainingStepMatchesTheCpuBackend(LossKind loss)
    {
        var cpu = OneStep(loss, CpuBackend.Instance);
        // A device of its own: the trainer's tensors are freed by finalizers, which KernelsLeakCheck would count on the shared one.
        var emu = OneStep(loss, GpuTarget.NewBackend());

        Assert.That(emu.Result.WienerActive, Is.EqualTo(loss == LossKind.Wiener));
        AssertLoss(cpu.Result.Loss, emu.Result.Loss, "ELBO loss");
        AssertLoss(cpu.Result.Reconstruction, emu.Result.Reconstruction, "reconstruction term");
        AssertLoss(cpu.Result.Kl, emu.Result.Kl, "KL term");
        AssertLoss(cpu.Result.KernelFit, emu.Result.KernelFit, "kernel-fit loss");
        Assert.That(emu.Parameters.Keys, Is.EquivalentTo(cpu.Parameters.Keys));
        Assert.That(emu.Buffers.Keys, Is.EquivalentTo(cpu.Buffers.Keys));

        var report = new List<string>();
        foreach (var model in new[] { "vae.", "generator." })
        {
            var names = cpu.Parameters.Keys.Where(k => k.StartsWith(model, StringComparison.Ordinal)).ToArray();
            Assert.That(names, Is.Not.Empty, model);
            double gradScale = names.Max(n => cpu.Parameters[n].Grad.Max(g => Math.Abs(g)));
            double gradAtol = GradScaleTol * gradScale;
            double maxGradDiff = 0, maxParamDiff = 0, maxStepError = 0;
            int elements = 0, signFlips = 0;
            foreach (var name in names)
            {
                var (p0, g0) = cpu.Parameters[name];
                var (p1, g1) = emu.Parameters[name];
                KernelParity.AssertClose(g0, g1, gradAtol, 1e-3, name + ".grad");
                for (int i = 0; i < p0.Length; i++)
                {
                    elements++;
                    maxGradDiff = Math.Max(maxGradDiff, Math.Abs(g0[i] - g1[i]));
                    maxParamDiff = Math.Max(maxParamDiff, Math.Abs(p0[i] - p1[i]));
                    if (Math.Sign(g0[i]) != Math.Sign(g1[i])) signFlips++;
                    // Both started from the same weights, and Adam's first step moves a parameter by
                    // lr·g/(|g| + ε) (m̂ = g, √v̂ = |g|): about ±lr, the sign of g. Where |g| is at the gradients'
                    // rounding-noise level (a conv bias before BatchNorm has exact gradient 0) that sign is not fixed
                    // by the maths, so the parameters may differ by up to 2·lr; the difference must still be the one
                    // the two gradients imply, which checks the Adam kernel on every element.
                    double implied = Lr * (AdamFirstStep(g0[i]) - AdamFirstStep(g1[i]));
                    double error = Math.Abs((p1[i] - p0[i]) - implied);
                    maxStepError = Math.Max(maxStepError, error);
                    if (!(error <= Atol + Rtol * Math.Abs(p0[i])))
                        Assert.Fail($"{name}[{i}] after the step: emulated {p1[i]:R}, CPU {p0[i]:R}; the gradients {g1[i]:E3} / {g0[i]:E3} imply a difference of {implied:E3}, off by {error:E3}");
                }
            }
            report.Add($"{model} max |Δgrad| {maxGradDiff:E2} (gradient scale {gradScale:E2}), max |Δparam| {maxParamDiff:E2} " +
                       $"({signFlips} of {elements} gradients differ in sign), max |Δparam − implied by the gradients| {maxStepError:E2}");
        }
        double maxBufferDiff = 0;
        foreach (var (name, expected) in cpu.Buffers)
        {
            KernelParity.AssertClose(expected, emu.Buffers[name], Atol, Rtol, name);
            maxBufferDiff = Math.Max(maxBufferDiff, expected.Zip(emu.Buffers[name], (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max());
        }
        TestContext.Out.WriteLine($"{loss}: ELBO {cpu.Result.Loss:R} vs {emu.Result.Loss:R}, kernel fit {cpu.Result.KernelFit:R} vs {emu.Result.KernelFit:R}; " +
                                  string.Join("; ", report) + $"; running statistics max |Δ| {maxBufferDiff:E2}");
    }

    /// <summary>Adam's first update over lr: m̂/(√v̂ + ε) with m̂ = g and √v̂ = |g| (β's cancel in the bias corrections).</summary>
    private static double AdamFirstStep(double g) => g / (Math.Abs(g) + 1e-8);

    private static void AssertLoss(double expected, double actual, string what) =>
        Assert.That(actual, Is.EqualTo(expected).Within(LossRtol * Math.Abs(expected) + 1e-6), what);
}
