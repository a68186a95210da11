using BlurVae.Training.Train;

namespace BlurVae.Training.SelfTest;

/// <summary>The small VAE, batch and images of one <see cref="TrainingStepParity"/> check.</summary>
public sealed record TrainingStepSetup
{
    public LossKind Loss { get; init; } = LossKind.Wiener;
    /// <summary>Image side (a power of two divisible by 2^Channels.Length); the images have one channel.</summary>
    public int Side { get; init; } = 16;
    public int Batch { get; init; } = 4;
    public int[] Channels { get; init; } = [8, 16];
    public int Latent { get; init; } = 8;
    public int MlpHidden { get; init; } = 32;
    public int KernelSize { get; init; } = 5;
    /// <summary>Learning rate of both Adam optimisers (the parameter check relies on Adam's first step moving each by about ±lr).</summary>
    public double Lr { get; init; } = 2e-3;
    /// <summary>Seeds the weights, the reparameterisation noise and the synthetic images.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>The batch, [Batch, 1, Side, Side] in [0, 1]; null: seeded synthetic images (a few Gaussian blobs each).</summary>
    public float[]? Images { get; init; }

    public string Describe() =>
        $"{Side}×{Side} batch={Batch} channels={string.Join(",", Channels)} latent={Latent} kernel={KernelSize}{(Images is null ? " synthetic" : "")}";

    /// <summary>The options both trainers are built from: identical, so both start from the same weights.</summary>
    public TrainOptions ToOptions() =>
        TrainOptions.SteadyStateModel(Side, Channels, Latent, MlpHidden, KernelSize, Loss, Batch, Seed) with { Data = "embedded", Lr = Lr, LrKernel = Lr, Epochs = 1 };

    /// <summary>The training steps a parity run does: the Wiener step (the method) always, the L2 step (the warm-up and baseline) unless quick.</summary>
    public static IEnumerable<TrainingStepSetup> For(ParityOptions options)
    {
        // Sizes small enough for the host emulation (its kernels run thread by thread), large enough for
        // two stride-2 blocks, a 5×5 kernel and batch statistics over more than one image.
        var wiener = options.Quick
            ? new TrainingStepSetup { Side = 8, Batch = 3, Channels = [4, 8], Latent = 4, MlpHidden = 16, KernelSize = 5, Seed = options.Seed }
            : new TrainingStepSetup { Side = 16, Batch = 4, Channels = [8, 16], Latent = 8, MlpHidden = 32, KernelSize = 5, Seed = options.Seed };
        yield return wiener;
        if (!options.Quick) yield return wiener with { Loss = LossKind.L2 };
    }

    /// <summary>The batch as a host array: <see cref="Images"/>, or blobs drawn from <see cref="Seed"/>.</summary>
    public float[] ImageBatch()
    {
        int plane = Side * Side;
        if (Images is not null)
        {
            if (Images.Length != Batch * plane)
                throw new ArgumentException($"Images holds {Images.Length} values; a batch of {Batch} images of {Side}×{Side} needs {Batch * plane}.", nameof(Images));
            return Images;
        }
        var rng = new Random(Seed * 31 + 7);
        var images = new float[Batch * plane];
        for (int i = 0; i < Batch; i++)
        {
            for (int blob = 0; blob < 3; blob++)
            {
                double cy = rng.NextDouble() * Side, cx = rng.NextDouble() * Side;
                double sigma = Side * (0.08 + 0.15 * rng.NextDouble()), amplitude = 0.4 + 0.6 * rng.NextDouble();
                for (int y = 0; y < Side; y++)
                {
                    for (int x = 0; x < Side; x++)
                    {
                        double r2 = ((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * sigma * sigma);
                        ref float v = ref images[i * plane + y * Side + x];
                        v = (float)Math.Min(1, v + amplitude * Math.Exp(-r2));
                    }
                }
            }
        }
        return images;
    }
}
