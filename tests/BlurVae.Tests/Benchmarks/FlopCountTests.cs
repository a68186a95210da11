namespace BlurVae.Tests.Benchmarks;

[TestFixture, Category("Benchmarks")]
public class FlopCountTests
{
    // Batch 2, 1×8×8, channels [2, 4] (8 → 4 → 2), latent 3, MLP 5, kernel 3; G_γ's hidden layer is 1000 wide.
    internal static readonly BenchConfig Tiny = new("tiny", 2, 1, 8, [2, 4], 3, 3, MlpHidden: 5);

    private static PartFlops CountStep(BenchConfig config)
    {
        var runner = new OursRunner(config, CpuBackend.Instance);
        return runner.CountFlops("step");
    }

    [Test]
    public void StepCountMatchesAHandCount()
    {
        // Multiply–adds of each layer, forward (N = 2):
        double conv1 = 2 * 2 * 4 * 4 * (1 * 9);           // 1→2, k3 s2, 8×8 → 4×4: N·Cout·OH·OW·Cin·k²
        double conv2 = 2 * 4 * 2 * 2 * (2 * 9);           // 2→4, 4×4 → 2×2
        double encMlp = 2 * 16 * 5 + 2 * 5 * 6;            // flat 4·2·2 = 16 → 5 → 2·latent
        double decMlp = 2 * 3 * 5 + 2 * 5 * 16;            // latent → 5 → 16
        double convT1 = 2 * 4 * 2 * 2 * (2 * 16);         // 4→2, k4 s2, 2×2 → 4×4: N·Cin·H·W·Cout·k²
        double convT2 = 2 * 2 * 4 * 4 * (2 * 16);         // 2→2 (the last block keeps its width), 4×4 → 8×8
        double outConv = 2 * 1 * 8 * 8 * (2 * 9);         // 2→1, k3 s1 at 8×8
        double gHidden = 2 * 3 * 1000, gOut = 2 * 1000 * 9; // G_γ: latent → 1000 → k²
        double vae = conv1 + conv2 + encMlp + decMlp + convT1 + convT2 + outConv;
        Assert.That(vae, Is.EqualTo(6938));

        // Forward: the VAE once, G_γ twice (in the ELBO for the Wiener kernel, and in the kernel step).
        double forwardMacs = vae + 2 * (gHidden + gOut);
        // Backward, ELBO: the first convolution only its weight (its input is the data), every other VAE layer weight
        // and input; G_γ is frozen, so only input gradients (z needs one). Kernel step: z is detached, so G_γ's
        // hidden layer only its weight, its output layer weight and input.
        double backwardMacs = conv1 + 2 * (vae - conv1) + (gHidden + gOut) + (gHidden + 2 * gOut);

        // Real FFTs of 8×8 (n = 64): 2.5·64·6 = 960 per image and channel, 2 images.
        double fft = 2 * 960;
        // Forward: ELBO rfft2(x − x̂) and rfft2(embedded k); kernel step (Parseval, fused) rfft2(x), rfft2(x̂), rfft2(k).
        // Backward: the two ELBO transforms and the kernel step's rfft2(k) (x and the detached x̂ need no gradient).
        double forwardFft = 5 * fft, backwardFft = 3 * fft;

        var flops = CountStep(Tiny);
        Assert.Multiple(() =>
        {
            Assert.That(flops.Forward.Matrix, Is.EqualTo(2 * forwardMacs));
            Assert.That(flops.Backward.Matrix, Is.EqualTo(2 * backwardMacs));
            Assert.That(flops.Forward.Fft, Is.EqualTo(forwardFft).Within(1e-9));
            Assert.That(flops.Backward.Fft, Is.EqualTo(backwardFft).Within(1e-9));
            Assert.That(flops.Total.Total, Is.EqualTo(2 * (forwardMacs + backwardMacs) + forwardFft + backwardFft).Within(1e-6));
        });
    }

    [Test]
    public void L2StepHasNoFftInTheElbo()
    {
        var flops = CountStep(Tiny with { Loss = LossKind.L2 });
        // Only the kernel step's transforms remain: rfft2(x), rfft2(x̂), rfft2(k) forward; rfft2(k) backward.
        Assert.That(flops.Forward.Fft, Is.EqualTo(3 * 1920).Within(1e-9));
        Assert.That(flops.Backward.Fft, Is.EqualTo(1 * 1920).Within(1e-9));
        // No Wiener kernel in the ELBO, so G_γ runs once forward (the kernel step) and has no ELBO backward.
        var wiener = CountStep(Tiny);
        Assert.That(wiener.Forward.Matrix - flops.Forward.Matrix, Is.EqualTo(2 * (2 * 3 * 1000 + 2 * 1000 * 9)));
    }

    [Test]
    public void LossPartCountsOnlyTheTransforms()
    {
        var part = new LossPart(Tiny, CpuBackend.Instance);
        var flops = StepFlops.Loss(part);
        Assert.That(flops.Total.Matrix, Is.EqualTo(0));
        Assert.That(flops.Forward.Fft, Is.EqualTo(5 * 1920).Within(1e-9));
        Assert.That(flops.Backward.Fft, Is.EqualTo(3 * 1920).Within(1e-9));
    }

    [Test]
    public void L2LossPartCountsOnlyTheBlurKernelFit()
    {
        var flops = StepFlops.Loss(new LossPart(Tiny with { Loss = LossKind.L2 }, CpuBackend.Instance));
        Assert.That(flops.Forward.Fft, Is.EqualTo(3 * 1920).Within(1e-9));
        Assert.That(flops.Backward.Fft, Is.EqualTo(1 * 1920).Within(1e-9));
    }

    [Test]
    public void MatMulCountsBothOperandsOnlyWhenTheyTrain()
    {
        var rng = new Random(3);
        var a = Tensor.Randn([4, 5], rng);
        var b = Tensor.Randn([5, 6], rng);
        b.RequiresGrad = true;
        var (forward, backward) = FlopCounter.Count(a.MatMul(b).Sum());
        Assert.That(forward.Matrix, Is.EqualTo(2 * 4 * 5 * 6));
        Assert.That(backward.Matrix, Is.EqualTo(2 * 4 * 5 * 6));   // ∂b only
        a.RequiresGrad = true;
        (forward, backward) = FlopCounter.Count(a.MatMul(b).Sum());
        Assert.That(backward.Matrix, Is.EqualTo(2 * 2 * 4 * 5 * 6));
    }

    [Test]
    public void RealFftConvention() =>
        Assert.That(FlopCounter.RealFft([3, 2, 32, 32]), Is.EqualTo(6 * 2.5 * 1024 * 10).Within(1e-9));

    [Test]
    public void CountingDoesNotChangeWhichParametersTrain()
    {
        var runner = new OursRunner(Tiny, CpuBackend.Instance);
        runner.CountFlops("step");
        Assert.That(runner.Trainer.Generator.Parameters().All(p => p.RequiresGrad), Is.True);
        Assert.That(runner.Trainer.Vae.Parameters().All(p => p.RequiresGrad), Is.True);
    }
}
