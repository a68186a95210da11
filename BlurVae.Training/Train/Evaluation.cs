using BlurVae.Training.Engine.Distributed;
using BlurVae.Training.Data;
using BlurVae.Training.Metrics;

namespace BlurVae.Training.Train;

/// <summary>
/// Metrics of a trained VAE on a dataset, with the reconstruction taken at the posterior mean (z = μ) in evaluation
/// mode (running batch-norm statistics): PSNR, SSIM, the high-frequency energy ratio (sharpness: 1 means as sharp as
/// the input), the mean radius of the kernel G_γ(μ) predicts (blur: 0 is a delta), and the per-image L2 and KL terms.
/// </summary>
public static class Evaluation
{
    /// <summary>The names of the metrics, in the table's order.</summary>
    private static readonly string[] Names = ["psnr", "ssim", "hf_energy_ratio", "kernel_width", "l2", "kl"];

    /// <param name="collectives">Data-parallel evaluation: each rank scores its contiguous share of the images and the
    /// per-image values are summed over the ranks into one list (zeros elsewhere), so every rank gets the table one
    /// process would compute on all images.</param>
    public static MetricTable Run(Trainer trainer, ImageDataset data, int batchSize, string? title = null, ICollectives? collectives = null)
    {
        int rank = collectives?.Rank ?? 0, ranks = collectives?.WorldSize ?? 1;
        int first = (int)((long)data.Count * rank / ranks), end = (int)((long)data.Count * (rank + 1) / ranks);
        var values = new double[Names.Length * data.Count];
        trainer.Vae.Eval();
        trainer.Generator.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            for (int start = first; start < end; start += batchSize)
            {
                int n = Math.Min(batchSize, end - start);
                var x = data.GetBatch(Enumerable.Range(start, n).ToArray(), trainer.DType, trainer.Backend);
                var (mu, logVar) = trainer.Vae.Encode(x);
                var xHat = trainer.Vae.Decode(mu);
                var kernel = trainer.Generator.Forward(mu);
                IEnumerable<double>[] perImage =
                [
                    Psnr.PerImage(xHat, x), Ssim.PerImage(xHat, x), Sharpness.HighFrequencyRatioPerImage(xHat, x),
                    KernelWidth.PerKernel(kernel), HalfSquaredErrorPerImage(x, xHat, n), NegativeElbo.KlPerImage(mu, logVar),
                ];
                for (int m = 0; m < Names.Length; m++)
                {
                    int i = m * data.Count + start;
                    foreach (double v in perImage[m]) values[i++] = v;
                }
            }
        }
        finally
        {
            trainer.Vae.Train();
            trainer.Generator.Train();
        }
        collectives?.AllReduceSum(values);
        var table = new MetricTable(title);
        for (int m = 0; m < Names.Length; m++)
            table.Add(Names[m], new ArraySegment<double>(values, m * data.Count, data.Count));
        return table;
    }

    /// <summary>½‖x − x̂‖² of each image (the L2 term, Σ = I).</summary>
    private static IEnumerable<double> HalfSquaredErrorPerImage(Tensor x, Tensor xHat, int n)
    {
        var a = x.ToDoubleArray();
        var b = xHat.ToDoubleArray();
        int per = a.Length / n;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = i * per; j < (i + 1) * per; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
            yield return 0.5 * s;
        }
    }
}
