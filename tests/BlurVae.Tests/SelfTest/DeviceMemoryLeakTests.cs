namespace BlurVae.Tests.SelfTest;

/// <summary>
/// No device memory leaks on the emulated CUDA backend, measured with its counting allocator: once the garbage
/// collector has run the finalizers of an iteration's temporaries (tensors free their device memory there), the
/// device holds exactly the parameters, their gradients, the Adam moments, the BatchNorm running statistics and the
/// batch, and still that many after every tenth of the loop. A full training step takes about a second on the host
/// emulation (it runs every kernel thread by thread, on fibers), so 1000 of them would take a quarter of an hour: the
/// long loops run autograd chains instead, and a few full alternating steps (the Wiener loss and G_γ included) are
/// checked against the same rule.
/// </summary>
[TestFixture, Category("SelfTest")]
public class DeviceMemoryLeakTests
{
    // A multi-tensor Adam keeps one device buffer per optimiser: the step state (AdamGroupState; the tensors'
    // addresses travel in the launch parameters).
    private const int AdamGroupState = 1;
    // Backward() without a gradient starts from a unit seed made once per backend and dtype (BackwardPass.UnitSeed).
    private const int UnitSeed = 1;

    /// <summary>
    /// The loops: 1000 iterations of a small MLP (broadcast affine map and tanh, linear layers, leaky ReLU; each op
    /// allocates its output and, backward, its gradients) with an Adam update, and 50 of a miniature conv autoencoder
    /// (conv, batchnorm, activation, transposed conv), whose kernels cost the emulation ~100 ms per iteration
    /// (batchnorm's block-wide barriers most: ~250 ms per iteration once added to the MLP).
    /// </summary>
    [TestCase("mlp", 1000), TestCase("conv", 50)]
    public void AutogradIterationsLeaveOnlyTheModelAndOptimiserState(string chain, int iterations)
    {
        int sampleEvery = iterations / 10;
        var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var rng = new Random(3);
        // Parameters and buffers of the chain, and its one input tensor.
        Module model = chain == "mlp"
            ? new Sequential(
                new Affine(Tensor.Uniform([1, 16], -1, 1, rng, backend: backend), Tensor.Uniform([1, 16], -1, 1, rng, backend: backend)),
                new Linear(16, 8, rng, backend: backend),
                new LeakyReLU(0.2),
                new Linear(8, 16, rng, backend: backend))
            : new Sequential(
                new Conv2d(1, 3, 4, rng, stride: 2, padding: 1, backend: backend),
                new BatchNorm2d(3, backend: backend),
                new LeakyReLU(0.2),
                new ConvTranspose2d(3, 1, 4, rng, stride: 2, padding: 1, backend: backend),
                new Tanh());
        var x = chain == "mlp" ? Tensor.Uniform([4, 16], 0, 1, rng, backend: backend) : Tensor.Uniform([2, 1, 8, 8], 0, 1, rng, backend: backend);
        var optimiser = new Adam(model.Parameters(), lr: 1e-3);
        void Iteration()
        {
            optimiser.ZeroGrad();
            var loss = (model.Forward(x) - x).Square().Mean();
            loss.Backward();
            optimiser.Step();
        }

        Iteration();
        var (baseline, baselineBytes) = Settle(device);
        int parameters = model.Parameters().Count(), buffers = model.NamedBuffers().Count();
        Assert.That(baseline, Is.EqualTo(4L * parameters + buffers + 1 + AdamGroupState + UnitSeed),
            $"after one iteration: {parameters} parameters × (value, grad, m, v) + {buffers} BatchNorm buffers + the input + the optimiser's group table + the unit seed");

        var clock = Stopwatch.StartNew();
        var samples = new List<(long Live, long Bytes)>();
        for (int i = 1; i <= iterations; i++)
        {
            Iteration();
            if (i % sampleEvery == 0) samples.Add(Settle(device));
        }
        TestContext.Out.WriteLine($"{chain}: {iterations} iterations in {clock.Elapsed.TotalSeconds:F1} s; live allocations after each {sampleEvery}: " +
                                  string.Join(", ", samples.Select(s => s.Live)) + $" (baseline {baseline}, {baselineBytes} bytes)");
        Assert.That(samples.Select(s => s.Live), Is.All.EqualTo(baseline), "device allocations grew over the iterations");
        Assert.That(samples.Select(s => s.Bytes), Is.All.EqualTo(baselineBytes), "device bytes grew over the iterations");
        GC.KeepAlive(model);
        GC.KeepAlive(x);
    }

    /// <summary>y = tanh(x·w + b) with w, b broadcast over the batch: mul, add, tanh and their backward reductions.</summary>
    private sealed class Affine : Module
    {
        private readonly Tensor _w, _b;

        public Affine(Tensor w, Tensor b)
        {
            _w = RegisterParameter("w", w);
            _b = RegisterParameter("b", b);
        }

        public override Tensor Forward(Tensor x) => (x * _w + _b).Tanh();
    }

    [Test]
    public void FullTrainingStepsLeaveOnlyTheModelAndOptimiserState()
    {
        const int steps = 5;
        var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        // A tiny VAE: 8×8 images, batch 2, two conv blocks of 2 and 4 channels, a 3×3 kernel from G_γ.
        var setup = new TrainingStepSetup { Side = 8, Batch = 2, Channels = [2, 4], Latent = 2, MlpHidden = 4, KernelSize = 3 };
        var trainer = new Trainer(setup.ToOptions(), 1, setup.Side, backend);
        var x = Tensor.FromArray(setup.ImageBatch(), [setup.Batch, 1, setup.Side, setup.Side], backend: backend);
        var eps = Tensor.Randn([setup.Batch, setup.Latent], new Random(1), backend: backend);

        // The first step creates the gradients and the Adam moments: the steady state starts after it.
        trainer.Step(x, eps, epoch: 0);
        var (baseline, baselineBytes) = Settle(device);
        int parameters = trainer.Vae.Parameters().Count() + trainer.Generator.Parameters().Count(), buffers = trainer.Vae.NamedBuffers().Count();
        // On a device the step runs through StepGraphs (CUDA graphs, on by default): its phase keeps its own static copy
        // of the batch and the noise, which the eager warm-up steps already use and the replays read.
        const int staticGraphInputs = 2;
        Assert.That(baseline, Is.EqualTo(4L * parameters + buffers + 2 + 1 + 4 + 2 * AdamGroupState + staticGraphInputs + UnitSeed),
            $"after one step: {parameters} parameters × (value, grad, m, v) + {buffers} BatchNorm buffers + the batch and the noise + the rfft2 backward's cached column weights + the 4 loss sums + two optimisers' step states + the graph phase's static batch and noise + the unit seed");

        var clock = Stopwatch.StartNew();
        for (int step = 1; step <= steps; step++)
        {
            var result = trainer.Step(x, eps, epoch: 0);
            Assert.That(double.IsFinite(result.Loss), $"step {step}: loss {result.Loss}");
            Assert.That(Settle(device), Is.EqualTo((baseline, baselineBytes)), $"device memory after step {step}");
        }
        TestContext.Out.WriteLine($"{steps} steps in {clock.Elapsed.TotalSeconds:F1} s; {baseline} live allocations ({baselineBytes} bytes) after each");
        GC.KeepAlive(trainer);
        GC.KeepAlive(x);
        GC.KeepAlive(eps);
    }

    /// <summary>Runs the finalizers of everything unreachable, then reads the counters.</summary>
    private static (long Live, long Bytes) Settle(EmulatedDevice device)
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return (device.LiveAllocations, device.LiveBytes);
    }
}
