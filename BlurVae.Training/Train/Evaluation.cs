using BlurVae.Training.Engine.Autograd;
using BlurVae.Training.Data;
using BlurVae.Training.Metrics;
using BlurVae.Training.Engine.Tensors;

namespace BlurVae.Training.Train;

/// <summary>
/// Metrics of a trained VAE on a dataset, with the reconstruction taken at the posterior mean (z = μ) in evaluation
/// mode (running batch-norm statistics): PSNR, SSIM, the high-frequency energy ratio (sharpness: 1 means as sharp as
/// the input), the mean radius of the kernel G_γ(μ) predicts (blur: 0 is a delta), and the per-image L2 and KL terms.
/// </summary>
public static class Evaluation
{
    public static MetricTable Run(Trainer trainer, ImageDataset data, int batchSize, string? title = null)
    {
        var psnr = new List<double>();
        var ssim = new List<double>();
        var hf = new List<double>();
        var width = new List<double>();
        var l2 = new List<double>();
        var kl = new List<double>();
        trainer.Vae.Eval();
        trainer.Generator.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            foreach (var x in data.Batches(batchSize, seed: 0, epoch: 0, shuffle: false, dropLast: false, dtype: trainer.DType, backend: trainer.Backend))
            {
                var (mu, logVar) = trainer.Vae.Encode(x);
                var xHat = trainer.Vae.Decode(mu);
                var kernel = trainer.Generator.Forward(mu);
                int n = x.Shape[0];
                psnr.AddRange(Psnr.PerImage(xHat, x));
                ssim.AddRange(Ssim.PerImage(xHat, x));
                hf.AddRange(Sharpness.HighFrequencyRatioPerImage(xHat, x));
                width.AddRange(KernelWidth.PerKernel(kernel));
                l2.AddRange(HalfSquaredErrorPerImage(x, xHat, n));
                kl.AddRange(NegativeElbo.KlPerImage(mu, logVar));
            }
        }
        finally
        {
            trainer.Vae.Train();
            trainer.Generator.Train();
        }
        return new MetricTable(title)
            .Add("psnr", psnr)
            .Add("ssim", ssim)
            .Add("hf_energy_ratio", hf)
            .Add("kernel_width", width)
            .Add("l2", l2)
            .Add("kl", kl);
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
