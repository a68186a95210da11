
namespace BlurVae.Training.Metrics;

/// <summary>
/// Peak signal-to-noise ratio per image, 10·log10(1 / MSE), with data range 1 on (x + 1) / 2-scaled, clamped
/// pixels; the MSE runs over all C·H·W values of one image.
/// </summary>
public static class Psnr
{
    /// <summary>
    /// Cap in dB, reached at MSE ≤ 1e-10 and used for identical images (MSE = 0, PSNR = +∞). Capping keeps batch
    /// means and tables finite; 100 dB is far above anything an 8-bit or float32 difference can produce otherwise
    /// (one grey level of error alone is 48 dB).
    /// </summary>
    public const double MaxDb = 100.0;

    /// <summary>The capped PSNR of one mean squared error (data range 1).</summary>
    public static double FromMse(double mse)
    {
        if (double.IsNaN(mse) || mse < 0) throw new ArgumentOutOfRangeException(nameof(mse), mse, "MSE must be a non-negative number.");
        if (mse == 0) return MaxDb;
        return Math.Min(10.0 * Math.Log10(1.0 / mse), MaxDb);
    }

    /// <summary>One PSNR per image of a [N, C, H, W] batch pair in [−1, 1].</summary>
    public static double[] PerImage(Tensor reconstruction, Tensor original)
    {
        var (r, o) = HostImages.Pair(reconstruction, original);
        var result = new double[r.N];
        for (int i = 0; i < r.N; i++)
        {
            var a = r.Image(i);
            var b = o.Image(i);
            double se = 0;
            for (int j = 0; j < a.Length; j++)
            {
                double d = a[j] - b[j];
                se += d * d;
            }
            result[i] = FromMse(se / a.Length);
        }
        return result;
    }

    /// <summary>Mean and population std of the per-image PSNR.</summary>
    public static MeanStd Compute(Tensor reconstruction, Tensor original) => MeanStd.Of(PerImage(reconstruction, original));
}
