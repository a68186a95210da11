using System.Text.Json;

namespace BlurVae.Tests.Reference;

/// <summary>One cross-check: a model step ("model") or the losses alone on given tensors ("losses").</summary>
public sealed record ReferenceSpec(
    string Kind, DType DType, Architecture Arch = Architecture.A, int ImageChannels = 1, int Height = 16, int Width = 16,
    int[]? Channels = null, int Latent = 6, int MlpHidden = 10, int KernelSize = 5, string StepLoss = "wiener",
    double? Eps = null, int Seed = 1)
{
    public override string ToString()
    {
        string dt = DType == DType.Float64 ? "f64" : "f32";
        return Kind == "model"
            ? $"{Arch} C{ImageChannels} {Height}x{Width} step={StepLoss}{(Eps is double e ? $" eps={e}" : "")} {dt}"
            : $"losses C{ImageChannels} {Height}x{Width} k{KernelSize} {dt}";
    }
}

/// <summary>
/// Builds a case on the CPU backend, writes it for crosscheck.py, and computes on the C# side everything the script
/// computes, under the same names (see crosscheck.py's docstring).
/// </summary>
internal static class ReferenceCase
{
    public const double WienerC = WienerBlurLoss.DefaultC;
    /// <summary>ε of the stand-alone log-determinant check (small enough that |F_k + ε| varies a lot).</summary>
    public const double LogDetEps = 0.05;
    public const int Batch = 3;
    public const double LearningRate = 1e-4;

    private static IBackend Cpu => CpuBackend.Instance;

    /// <summary>Writes the case file and returns this side's values, name → (shape, values).</summary>
    public static Dictionary<string, (int[] Shape, double[] Values)> Build(ReferenceSpec spec, string casePath) =>
        spec.Kind == "model" ? BuildModel(spec, casePath) : BuildLosses(spec, casePath);

    private static Dictionary<string, (int[] Shape, double[] Values)> BuildModel(ReferenceSpec s, string casePath)
    {
        int[] channels = s.Channels ?? (s.Arch == Architecture.A ? [4, 8] : [4, 6, 8]);
        var (lossKind, warmupEpochs) = s.StepLoss switch
        {
            "wiener" => (LossKind.Wiener, 0),
            "warmup" => (LossKind.Wiener, 1),   // epoch 0 of a run with one warm-up epoch: the L2 term
            "l2" => (LossKind.L2, 0),
            "l1" => (LossKind.L1, 0),
            "bce" => (LossKind.Bce, 0),
            "ffl" => (LossKind.Ffl, 0),
            "watson" => (LossKind.Watson, 0),
            _ => throw new ArgumentException($"unknown step loss {s.StepLoss}"),
        };
        var options = new TrainOptions
        {
            Arch = s.Arch, Channels = channels, Latent = s.Latent, MlpHidden = s.MlpHidden, KernelSize = s.KernelSize,
            Loss = lossKind, WarmupEpochs = warmupEpochs, Eps = s.Eps, WienerC = WienerC, Beta = 1.0, Lr = LearningRate, LrKernel = LearningRate,
            Dtype = s.DType == DType.Float64 ? "f64" : "f32", Seed = s.Seed,
        };
        var trainer = new Trainer(options, s.ImageChannels, s.Height, Cpu);
        var rng = new Random(1000 + s.Seed);
        var x = Tensor.Uniform([Batch, s.ImageChannels, s.Height, s.Width], -1, 1, rng, s.DType, Cpu);
        var eps = Tensor.Randn([Batch, s.Latent], rng, s.DType, Cpu);

        var inputs = new List<(string, Tensor)>();
        foreach (var (n, t) in trainer.Vae.NamedParameters("vae.").Concat(trainer.Vae.NamedBuffers("vae.")))
            inputs.Add((n, t.Clone()));
        foreach (var (n, t) in trainer.Generator.NamedParameters("kernel_generator."))
            inputs.Add((n, t.Clone()));
        inputs.Add(("x", x));
        inputs.Add(("eps", eps));
        var config = new Dictionary<string, object?>
        {
            ["kind"] = "model", ["dtype"] = DTypeName(s.DType), ["arch"] = s.Arch.ToString(), ["image_channels"] = s.ImageChannels,
            ["side"] = s.Height, ["channels"] = channels, ["latent"] = s.Latent, ["mlp_hidden"] = s.MlpHidden,
            ["kernel_size"] = s.KernelSize, ["step_loss"] = s.StepLoss == "warmup" ? "l2" : s.StepLoss, ["wiener_c"] = WienerC,
            ["eps"] = s.Eps, ["beta"] = 1.0, ["lr"] = LearningRate, ["lr_kernel"] = LearningRate, ["ffl_weight"] = options.FflWeight,
            ["ffl_alpha"] = FocalFrequencyLoss.DefaultAlpha, ["logdet_eps"] = LogDetEps,
            ["watson_shift"] = WatsonShift(s.Seed),
            // The trainer's Watson loss draws its shift from new Random(seed), and this step is its first call.
            ["step_watson_shift"] = s.StepLoss == "watson" ? WatsonShift(options.Seed) : null,
        };
        SafeTensors.Write(casePath, inputs, new Dictionary<string, string> { ["config"] = JsonSerializer.Serialize(config) });

        var results = new Dictionary<string, (int[], double[])>();
        // One forward in training mode, as crosscheck.py: it updates the BN running statistics on both sides.
        Tensor xHat, mu, logVar, kernel;
        using (GradMode.NoGrad())
        {
            var output = trainer.Vae.Run(x, eps);
            kernel = trainer.Generator.Forward(output.Z);
            xHat = output.Reconstruction;
            (mu, logVar) = output.Statistics.SplitHalves(axis: 1);
            Add(results, "forward/mu", mu);
            Add(results, "forward/logvar", logVar);
            Add(results, "forward/z", output.Z);
            Add(results, "forward/x_hat", xHat);
            Add(results, "forward/kernel", kernel);
        }
        AddLosses(results, s, x, xHat, kernel, mu, logVar);

        var step = trainer.Step(x, eps, epoch: 0);
        Assert.That(step.WienerActive, Is.EqualTo(s.StepLoss == "wiener"), "the trainer's Wiener switch");
        AddScalar(results, "elbo/loss", step.Loss, s.DType);
        AddScalar(results, "elbo/reconstruction", step.Reconstruction, s.DType);
        AddScalar(results, "elbo/kl", step.Kl, s.DType);
        AddScalar(results, "kernel/loss", step.BlurKernelFit, s.DType);
        foreach (var (n, p) in trainer.Vae.NamedParameters("vae."))
        {
            Add(results, "elbo/grad/" + n, p.Grad ?? throw new AssertionException($"the ELBO step left no gradient on {n}"));
            Add(results, "elbo/param/" + n, p);
        }
        foreach (var (n, b) in trainer.Vae.NamedBuffers("vae."))
            Add(results, "elbo/buffer/" + n, b);
        foreach (var (n, p) in trainer.Generator.NamedParameters("kernel_generator."))
        {
            Add(results, "kernel/grad/" + n, p.Grad ?? throw new AssertionException($"the kernel step left no gradient on {n}"));
            Add(results, "kernel/param/" + n, p);
        }
        return results;
    }

    private static Dictionary<string, (int[] Shape, double[] Values)> BuildLosses(ReferenceSpec s, string casePath)
    {
        var rng = new Random(2000 + s.Seed);
        int[] shape = [Batch, s.ImageChannels, s.Height, s.Width];
        var x = Tensor.Uniform(shape, -1, 1, rng, s.DType, Cpu);
        var xHat = Tensor.Uniform(shape, -0.999, 0.999, rng, s.DType, Cpu);
        Tensor kernel;
        using (GradMode.NoGrad())
            kernel = (Tensor.Randn([Batch, s.KernelSize * s.KernelSize], rng, s.DType, Cpu) * 1.5).Softmax().Reshape(Batch, s.KernelSize, s.KernelSize);
        var config = new Dictionary<string, object?>
        {
            ["kind"] = "losses", ["dtype"] = DTypeName(s.DType), ["wiener_c"] = WienerC, ["logdet_eps"] = LogDetEps,
            ["ffl_alpha"] = FocalFrequencyLoss.DefaultAlpha, ["watson_shift"] = WatsonShift(s.Seed),
        };
        SafeTensors.Write(casePath, [("x", x), ("x_hat", xHat), ("kernel", kernel)],
            new Dictionary<string, string> { ["config"] = JsonSerializer.Serialize(config) });
        var results = new Dictionary<string, (int[], double[])>();
        AddLosses(results, s, x, xHat, kernel, null, null);
        return results;
    }

    /// <summary>Each loss and its gradients with respect to its inputs, the inputs being fresh leaves.</summary>
    private static void AddLosses(Dictionary<string, (int[], double[])> results, ReferenceSpec s, Tensor x, Tensor xHat,
                                  Tensor kernel, Tensor? mu, Tensor? logVar)
    {
        int c = s.ImageChannels, h = s.Height, w = s.Width;
        var images = new[] { ("x", x), ("x_hat", xHat) };
        var withKernel = new[] { ("x", x), ("x_hat", xHat), ("kernel", kernel) };
        var table = new List<(string Name, (string, Tensor)[] Inputs, Func<Dictionary<string, Tensor>, Tensor> Loss)>
        {
            ("wiener", withKernel, t => WienerBlurLoss.Compute(t["x"], t["x_hat"], t["kernel"], WienerC)),
            ("logdet", [("kernel", kernel)], t => LogDeterminant.Compute(t["kernel"], c, h, w, LogDetEps)),
            ("logdet_exact", [("kernel", kernel)], t => LogDeterminant.ComputeExact(t["kernel"], c, h, w, WienerC)),
            ("wiener_logdet", withKernel, t => WienerBlurLoss.Compute(t["x"], t["x_hat"], t["kernel"], WienerC)
                                              + LogDeterminant.Compute(t["kernel"], c, h, w, LogDetEps)),
            ("kernel_fit", withKernel, t => BlurKernelFitLoss.Compute(t["x"], t["x_hat"], t["kernel"])),
            ("l2", images, t => L2Loss.Compute(t["x"], t["x_hat"])),
            ("l1", images, t => L1Loss.Compute(t["x"], t["x_hat"])),
            ("bce", images, t => BceLoss.Compute(t["x"], t["x_hat"])),
            ("ffl", images, t => FocalFrequencyLoss.Compute(t["x"], t["x_hat"], FocalFrequencyLoss.DefaultAlpha)),
        };
        if (c is 1 or 3 && h % 8 == 0 && w % 8 == 0)
        {
            var plain = WatsonDftLoss.ForChannels(c, randomShift: false);
            var shifted = WatsonDftLoss.ForChannels(c, randomShift: true, seed: s.Seed);
            table.Add(("watson", images, t => plain.Compute(t["x"], t["x_hat"])));
            table.Add(("watson_shifted", images, t => shifted.Compute(t["x"], t["x_hat"])));
        }
        if (mu is not null && logVar is not null)
            table.Add(("kl", [("mu", mu), ("logvar", logVar)], t => KlDivergence.Compute(t["mu"], t["logvar"])));

        foreach (var (name, inputs, loss) in table)
        {
            var leaves = inputs.ToDictionary(i => i.Item1, i =>
            {
                var leaf = i.Item2.Clone();
                leaf.RequiresGrad = true;
                return leaf;
            });
            var value = loss(leaves);
            value.Backward();
            Add(results, $"loss/{name}", value);
            foreach (var (input, leaf) in leaves)
                Add(results, $"grad/{name}/{input}", leaf.Grad ?? leaf.ZerosLike());
        }
    }

    /// <summary>The (row, column) offsets a WatsonDftLoss with random shift and this seed uses on its first call.</summary>
    public static int[] WatsonShift(int seed)
    {
        var r = new Random(seed);
        int dy = r.Next(WatsonDftLoss.MaxShift), dx = r.Next(WatsonDftLoss.MaxShift);
        return [dy, dx];
    }

    private static string DTypeName(DType d) => d == DType.Float64 ? "float64" : "float32";

    private static void Add(Dictionary<string, (int[], double[])> results, string name, Tensor t) =>
        results.Add(name, ((int[])t.Shape.Clone(), t.ToDoubleArray()));

    // The step reports its losses as doubles; in float32 they are float32 values widened.
    private static void AddScalar(Dictionary<string, (int[], double[])> results, string name, double value, DType dtype) =>
        results.Add(name, ([], [dtype == DType.Float32 ? (float)value : value]));
}
