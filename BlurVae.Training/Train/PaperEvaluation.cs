using BlurVae.Training.Classifier;
using BlurVae.Training.Data;
using BlurVae.Training.Metrics;
using BlurVae.Training.Models;

namespace BlurVae.Training.Train;

/// <summary>What `blurvae eval` adds to <see cref="Evaluation"/>: FD-FMNIST, FID and the ELBO table's settings.</summary>
public sealed record PaperEvaluationOptions
{
    /// <summary>Classifier weights for FD-FMNIST; null = the shipped file beside the program.</summary>
    public string? Classifier { get; init; }
    /// <summary>pytorch-fid's Inception weights (tools/export-weights.py fid-inception) for FID; null = no FID rows.</summary>
    public string? InceptionWeights { get; init; }
    /// <summary>ε of K + εI in the log-determinant of our likelihood's ELBO (the paper's Table 6 uses 0.5).</summary>
    public double ElboEps { get; init; } = 0.5;
    /// <summary>LPIPS weights (tools/export-weights.py lpips-alex or lpips-vgg); null = LPIPS is skipped with a note.</summary>
    public string? LpipsWeights { get; init; }
    /// <summary>Seed of the prior samples (FD-FMNIST-gen) and of the posterior draw z ~ q(z|x) of the ELBO.</summary>
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (!(ElboEps > 0) || !double.IsFinite(ElboEps)) throw new ArgumentException($"--elbo-eps must be a positive number (got {ElboEps}).");
    }
}

/// <summary>
/// The paper's generative metrics of a trained VAE on a test split, as rows of a <see cref="MetricTable"/>:
/// fd-fmnist-rec (test images against their reconstructions at z = μ), fd-fmnist-gen (test images against as many
/// decoded prior samples), fid-rec and fid-gen likewise in pytorch-fid's Inception pool3 features when
/// --inception-weights is given, and the per-image negative ELBO in nats and bits/dim under Σ = I and under ours at ε
/// (one posterior draw per image, seeded), and LPIPS of reconstructions (lpips-alex or lpips-vgg, by the weights
/// file). Notes say what was skipped and why (weights missing, wrong image shape).
/// </summary>
public static class PaperEvaluation
{
    public static List<string> AddTo(MetricTable table, Trainer trainer, ImageDataset data, int batchSize, PaperEvaluationOptions options)
    {
        options.Validate();
        var notes = new List<string>();
        trainer.Vae.Eval();
        trainer.Generator.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            AddElbo(table, trainer, data, batchSize, options);
            if (FdFmnist.NotApplicable(trainer.Channels, trainer.Side) is string why)
                notes.Add($"{FdFmnist.Name} skipped: {why}.");
            else if (options.Classifier is null && !File.Exists(ClassifierWeights.ShippedPath))
                notes.Add($"{FdFmnist.Name} skipped: the shipped classifier weights {ClassifierWeights.ShippedPath} are missing; pass --classifier FILE (from `blurvae train-classifier`).");
            else
            {
                var (classifier, metadata) = ClassifierWeights.Load(options.Classifier);
                var (rec, gen) = FdFmnistOf(trainer, data, batchSize, new FdFmnist(classifier), options.Seed);
                table.Add("fd-fmnist-rec", new MeanStd(rec, 0, data.Count)).Add("fd-fmnist-gen", new MeanStd(gen, 0, data.Count));
                notes.Add($"{FdFmnist.Name}: Fréchet distance in the 128-d features of our Fashion-MNIST classifier ({ClassifierWeights.Describe(metadata)}); not FID.");
            }
            if (options.InceptionWeights is null)
                notes.Add(Fid.Missing);
            else
            {
                var fid = Fid.Load(options.InceptionWeights, trainer.Backend);
                var (rec, gen) = FrechetOf(trainer, data, batchSize, fid.Statistics, options.Seed);
                table.Add("fid-rec", new MeanStd(rec, 0, data.Count)).Add("fid-gen", new MeanStd(gen, 0, data.Count));
                notes.Add($"{Fid.Name}: Fréchet distance in the 2048-d pool3 features of pytorch-fid's Inception-v3 ('{options.InceptionWeights}'), images resized to 299×299.");
            }
            notes.Add(AddLpips(table, trainer, data, batchSize, options.LpipsWeights));
        }
        finally
        {
            trainer.Vae.Train();
            trainer.Generator.Train();
        }
        return notes;
    }

    /// <summary>
    /// LPIPS v0.1 of each test image against its reconstruction at z = μ (lpips-alex or lpips-vgg, by the weights
    /// file; grey images repeated to RGB), and the note that says which variant, or why it was skipped.
    /// </summary>
    private static string AddLpips(MetricTable table, Trainer trainer, ImageDataset data, int batchSize, string? weights)
    {
        if (weights is null)
            return "LPIPS skipped: no weights given; pass --lpips-weights FILE (written by `python3 tools/export-weights.py lpips-alex FILE` where torchvision and the lpips package are installed).";
        var lpips = Perceptual.LpipsWeights.Load(weights, "--lpips-weights", trainer.DType, trainer.Backend);
        if (lpips.NotApplicable(trainer.Side) is string why) return $"LPIPS skipped: {why}.";
        var values = new List<double>();
        foreach (var x in data.Batches(batchSize, 0, 0, shuffle: false, dtype: trainer.DType, backend: trainer.Backend))
            values.AddRange(lpips.Distance(x, trainer.Vae.Decode(trainer.Vae.Encode(x).Mu)).ToDoubleArray());
        table.Add(lpips.Name, values);
        return $"{lpips.Name}: LPIPS v0.1 ({lpips.Network.Name} features and linear heads from '{weights}') of test images against their reconstructions at z = μ.";
    }

    /// <summary>(FD-FMNIST of reconstructions, FD-FMNIST of prior samples), both against the real images of data.</summary>
    public static (double Reconstructions, double Samples) FdFmnistOf(Trainer trainer, ImageDataset data, int batchSize, FdFmnist fd, int seed) =>
        FrechetOf(trainer, data, batchSize, fd.Statistics, seed);

    /// <summary>
    /// The Fréchet distances, in the features <paramref name="statistics"/> extracts, of the reconstructions at z = μ
    /// and of as many decoded prior draws (seeded), both against the real images of data.
    /// </summary>
    public static (double Reconstructions, double Samples) FrechetOf(Trainer trainer, ImageDataset data, int batchSize, Func<IEnumerable<Tensor>, FeatureStatistics> statistics, int seed)
    {
        IEnumerable<Tensor> Real() => data.Batches(batchSize, 0, 0, shuffle: false, dtype: trainer.DType, backend: trainer.Backend);
        var real = statistics(Real());
        var reconstructions = statistics(Real().Select(x => trainer.Vae.Decode(trainer.Vae.Encode(x).Mu)));
        var rng = new Random(seed);
        var samples = statistics(Enumerable.Range(0, (data.Count + batchSize - 1) / batchSize).Select(b =>
            trainer.Vae.Decode(Tensor.Randn([Math.Min(batchSize, data.Count - b * batchSize), trainer.Options.Latent], rng, trainer.DType, trainer.Backend))));
        return (FrechetDistance.Compute(real, reconstructions), FrechetDistance.Compute(real, samples));
    }

    private static void AddElbo(MetricTable table, Trainer trainer, ImageDataset data, int batchSize, PaperEvaluationOptions options)
    {
        var identity = new List<double>();
        var wiener = new List<double>();
        var noise = new Random(options.Seed);
        foreach (var x in data.Batches(batchSize, 0, 0, shuffle: false, dtype: trainer.DType, backend: trainer.Backend))
        {
            var (mu, logVar) = trainer.Vae.Encode(x);
            var z = VaeModel.Reparameterize(mu, logVar, Tensor.Randn(mu.Shape, noise, trainer.DType, trainer.Backend));
            var xHat = trainer.Vae.Decode(z);
            identity.AddRange(NegativeElbo.IdentityCovariance(x, xHat, mu, logVar));
            wiener.AddRange(NegativeElbo.WienerCovariance(x, xHat, trainer.KernelFor(z), mu, logVar, options.ElboEps, trainer.Options.WienerC));
        }
        int d = data.ImageSize;
        string eps = options.ElboEps.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        table.Add("neg_elbo_identity_nats", identity)
             .Add("neg_elbo_identity_bpd", identity.Select(v => NegativeElbo.BitsPerDimension(v, d)).ToList())
             .Add($"neg_elbo_wiener_eps{eps}_nats", wiener)
             .Add($"neg_elbo_wiener_eps{eps}_bpd", wiener.Select(v => NegativeElbo.BitsPerDimension(v, d)).ToList());
    }
}
