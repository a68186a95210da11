
namespace BlurVae.Training.Metrics;

/// <summary>
/// Structural similarity (Wang et al. 2004) on (x + 1) / 2-scaled, clamped pixels. Convention, exactly: an 11×11
/// Gaussian window with σ = 1.5 normalised to unit sum, applied separably and only where it fits inside the image
/// ('valid' windows, an (H − 10)×(W − 10) SSIM map); local statistics with weights w:
/// μx = Σ w·x, σx² = Σ w·x² − μx², σxy = Σ w·x·y − μx·μy (the biased/population form, no N/(N−1) factor);
/// C1 = (0.01·L)², C2 = (0.03·L)², L = 1;
/// SSIM map = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).
/// Per image: the map's mean per channel, then the mean over channels. This equals pytorch-msssim's
/// ssim(X, Y, data_range=1, size_average=False) (win_size 11, σ 1.5, K = (0.01, 0.03)) and skimage's
/// structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1,
/// channel_axis=…), whose 5-pixel border crop leaves exactly the valid windows.
/// </summary>
public static class Ssim
{
    public const int WindowSize = 11;
    public const double Sigma = 1.5;
    public const double K1 = 0.01;
    public const double K2 = 0.03;
    public const double DataRange = 1.0;

    /// <summary>The 1-D Gaussian g[i] ∝ exp(−(i − 5)² / (2σ²)), i = 0…10, summing to 1; the 2-D window is g ⊗ g.</summary>
    public static double[] GaussianWindow()
    {
        var g = new double[WindowSize];
        int c = WindowSize / 2;
        double sum = 0;
        for (int i = 0; i < WindowSize; i++)
        {
            g[i] = Math.Exp(-((i - c) * (i - c)) / (2 * Sigma * Sigma));
            sum += g[i];
        }
        for (int i = 0; i < WindowSize; i++) g[i] /= sum;
        return g;
    }

    /// <summary>One SSIM per image of a [N, C, H, W] batch pair in [−1, 1]; H and W must be at least 11.</summary>
    public static double[] PerImage(Tensor reconstruction, Tensor original)
    {
        var (r, o) = HostImages.Pair(reconstruction, original);
        if (r.H < WindowSize || r.W < WindowSize)
            throw new ArgumentException($"SSIM needs images of at least {WindowSize}×{WindowSize} pixels for its {WindowSize}×{WindowSize} Gaussian window; got H = {r.H}, W = {r.W}.", nameof(reconstruction));
        var g = GaussianWindow();
        var result = new double[r.N];
        int plane = r.H * r.W;
        for (int i = 0; i < r.N; i++)
        {
            double sum = 0;
            for (int c = 0; c < r.C; c++)
                sum += ChannelMean(r.Image(i).Slice(c * plane, plane), o.Image(i).Slice(c * plane, plane), r.H, r.W, g);
            result[i] = sum / r.C;
        }
        return result;
    }

    /// <summary>Mean and population std of the per-image SSIM.</summary>
    public static MeanStd Compute(Tensor reconstruction, Tensor original) => MeanStd.Of(PerImage(reconstruction, original));

    // Mean of the SSIM map of one channel pair, [h, w] each.
    private static double ChannelMean(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int h, int w, double[] g)
    {
        int oh = h - WindowSize + 1, ow = w - WindowSize + 1;
        var xy = new double[h * w];
        var xx = new double[h * w];
        var yy = new double[h * w];
        for (int j = 0; j < xy.Length; j++)
        {
            xy[j] = x[j] * y[j];
            xx[j] = x[j] * x[j];
            yy[j] = y[j] * y[j];
        }
        var mx = FilterValid(x, h, w, g);
        var my = FilterValid(y, h, w, g);
        var exx = FilterValid(xx, h, w, g);
        var eyy = FilterValid(yy, h, w, g);
        var exy = FilterValid(xy, h, w, g);
        double c1 = (K1 * DataRange) * (K1 * DataRange), c2 = (K2 * DataRange) * (K2 * DataRange);
        double sum = 0;
        for (int j = 0; j < oh * ow; j++)
        {
            double ux = mx[j], uy = my[j];
            double vx = exx[j] - ux * ux, vy = eyy[j] - uy * uy, cxy = exy[j] - ux * uy;
            sum += (2 * ux * uy + c1) * (2 * cxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
        return sum / (oh * ow);
    }

    // Separable 'valid' correlation with g ⊗ g: rows first ([h, ow]), then columns ([oh, ow]).
    private static double[] FilterValid(ReadOnlySpan<double> src, int h, int w, double[] g)
    {
        int k = g.Length, oh = h - k + 1, ow = w - k + 1;
        var rows = new double[h * ow];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < ow; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += g[t] * src[i * w + j + t];
                rows[i * ow + j] = s;
            }
        var dst = new double[oh * ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += g[t] * rows[(i + t) * ow + j];
                dst[i * ow + j] = s;
            }
        return dst;
    }
}
