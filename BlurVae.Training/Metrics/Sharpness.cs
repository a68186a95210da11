using BlurVae.Kernels.Cpu;

namespace BlurVae.Training.Metrics;

/// <summary>
/// High-frequency energy ratio of a reconstruction against its original, per image pair:
/// Σ_{|f| &gt; f_c} |F(x̂)|² / Σ_{|f| &gt; f_c} |F(x)|², summed over channels, on (x + 1) / 2-scaled clamped pixels.
/// |f| = sqrt(f_y² + f_x²) is the radial frequency in cycles per pixel (f_y = k/H wrapped to [−½, ½), f_x = l/W),
/// Nyquist is ½ cycle per pixel, and f_c = cutoff · ½, so the default cutoff 0.25 keeps the outer three quarters
/// of the Nyquist radius (plus the corners beyond it). The DC term is always excluded (|f| = 0 is never &gt; f_c),
/// so the [−1, 1] → [0, 1] offset does not matter and the common scale factor cancels.
/// A perfect reconstruction gives 1, a blurred one less than 1, a noisier/sharper one more than 1.
/// Degenerate originals with no high-frequency energy (below 1e-20 of the pair's total energy, e.g. constant
/// images): the ratio is 1 when the reconstruction has none either, and +∞ when it has some.
/// Computed with the project's FFT (<see cref="Fft.Rfft2{T}"/> in double) on the half spectrum, where each
/// column other than 0 and W/2 stands for two bins of the full spectrum and is counted twice.
/// </summary>
public static class Sharpness
{
    public const double DefaultCutoff = 0.25;

    // Relative floor under which a high-frequency energy counts as zero (FFT rounding of a constant image is ~1e-29).
    private const double ZeroEnergyTolerance = 1e-20;

    /// <summary>One ratio per image pair of a [N, C, H, W] batch in [−1, 1]; cutoff is a fraction of Nyquist in [0, 1].</summary>
    public static double[] HighFrequencyRatioPerImage(Tensor reconstruction, Tensor original, double cutoff = DefaultCutoff)
    {
        if (!(cutoff >= 0 && cutoff <= 1))
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "The cut-off is a fraction of the Nyquist frequency and must lie in [0, 1].");
        var (r, o) = HostImages.Pair(reconstruction, original);
        var weights = HighPassWeights(r.H, r.W, cutoff);
        var result = new double[r.N];
        for (int i = 0; i < r.N; i++)
        {
            double er = Energy(r.Image(i), r.C, r.H, r.W, weights, out double totalR);
            double eo = Energy(o.Image(i), o.C, o.H, o.W, weights, out double totalO);
            double tol = ZeroEnergyTolerance * Math.Max(totalR, totalO);
            if (eo <= tol) result[i] = er <= tol ? 1.0 : double.PositiveInfinity;
            else result[i] = er / eo;
        }
        return result;
    }

    /// <summary>Mean and population std of the per-image ratio.</summary>
    public static MeanStd HighFrequencyRatio(Tensor reconstruction, Tensor original, double cutoff = DefaultCutoff) =>
        MeanStd.Of(HighFrequencyRatioPerImage(reconstruction, original, cutoff));

    /// <summary>
    /// Multiplicity of each half-spectrum bin [H, W/2 + 1] in the high-pass sum: 0 inside the cut-off radius,
    /// otherwise 1 for the self-conjugate columns (0 and, for even W, W/2) and 2 for the rest.
    /// </summary>
    internal static double[] HighPassWeights(int h, int w, double cutoff)
    {
        int wh = w / 2 + 1;
        double fc = cutoff * 0.5;
        var weights = new double[h * wh];
        for (int k = 0; k < h; k++)
        {
            double fy = (double)Math.Min(k, h - k) / h;
            for (int l = 0; l < wh; l++)
            {
                double fx = (double)l / w;
                if (Math.Sqrt(fy * fy + fx * fx) <= fc) continue;
                weights[k * wh + l] = ShapeRules.ColumnMultiplicity(l, w);
            }
        }
        return weights;
    }

    // High-pass energy of one image [c, h, w], summed over channels; total = the full spectral energy (Parseval: h·w·Σx²).
    private static double Energy(ReadOnlySpan<double> image, int c, int h, int w, double[] weights, out double total)
    {
        int wh = w / 2 + 1;
        var spectrum = new double[c * h * wh * 2];
        Fft.Rfft2<double>(spectrum, image, c, h, w);
        double e = 0;
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < h * wh; j++)
            {
                int o = (ch * h * wh + j) * 2;
                e += weights[j] * (spectrum[o] * spectrum[o] + spectrum[o + 1] * spectrum[o + 1]);
            }
        double sq = 0;
        foreach (var v in image) sq += v * v;
        total = (double)h * w * sq;
        return e;
    }
}
