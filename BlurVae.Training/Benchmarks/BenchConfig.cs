using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// One benchmarked model and batch: architecture A (the paper's main one) with G_γ and the Wiener loss after warm-up.
/// The same record drives our step, the FLOP count and the PyTorch command line, so both engines run the same model.
/// </summary>
public sealed record BenchConfig(string Name, int Batch, int ImageChannels, int Side, int[] Channels, int Latent, int KernelSize,
                                 int MlpHidden = 512, LossKind Loss = LossKind.Wiener)
{
    /// <summary>Fashion-MNIST padded to 32×32: batch 64, 1×32×32, channels [32, 64, 128, 256], latent 32, kernel 11.</summary>
    public static BenchConfig Fashion32 { get; } = new("fashion32", 64, 1, 32, [32, 64, 128, 256], 32, 11);

    /// <summary>CelebA at 64×64: batch 64, 3×64×64, channels [64, 128, 256, 512], latent 256, kernel 11.</summary>
    public static BenchConfig Celeba64 { get; } = new("celeba64", 64, 3, 64, [64, 128, 256, 512], 256, 11);

    public static IReadOnlyList<BenchConfig> Named { get; } = [Fashion32, Celeba64];

    /// <summary>The configurations --config names: one of <see cref="Named"/>, or "all".</summary>
    public static IReadOnlyList<BenchConfig> Select(string name)
    {
        if (name == "all") return Named;
        foreach (var c in Named)
            if (c.Name == name) return [c];
        throw new ArgumentException($"--config must be {string.Join(", ", Named.Select(c => c.Name))} or all (got '{name}').");
    }

    /// <summary>
    /// Training options for exactly this model: no warm-up epochs, so the first step already uses the Wiener term
    /// with k = G_γ(z) (the steady state of a run), float32, the paper's defaults for everything else.
    /// </summary>
    public TrainOptions ToTrainOptions(int seed = 1, bool cudaGraph = true) =>
        TrainOptions.SteadyStateModel(Side, Channels, Latent, MlpHidden, KernelSize, Loss, Batch, seed) with { Arch = Architecture.A, Dtype = "f32", NoCudaGraph = !cudaGraph };

    /// <summary>"1×32×32, A [32,64,128,256], latent 32, k 11, batch 64".</summary>
    public string Describe() =>
        $"{ImageChannels}×{Side}×{Side}, A [{string.Join(",", Channels)}], latent {Latent}, k {KernelSize}, batch {Batch}, {Loss.ToString().ToLowerInvariant()}";

    /// <summary>The model/loss flags of reference/pytorch/bench.py for this configuration.</summary>
    public IEnumerable<string> ReferenceArguments() =>
    [
        "--arch", "A", "--image-channels", Inv(ImageChannels), "--side", Inv(Side), "--channels", string.Join(",", Channels.Select(Inv)),
        "--latent", Inv(Latent), "--kernel", Inv(KernelSize), "--batch", Inv(Batch), "--loss", Loss == LossKind.Wiener ? "wiener" : "l2",
        "--mlp-hidden", Inv(MlpHidden),
    ];

    private static string Inv(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
