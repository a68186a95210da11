
namespace BlurVae.Tests.Losses.WatsonDft;

/// <summary>Test images for the Watson-DFT tests, and conversions between tensors and nested arrays.</summary>
internal static class WatsonDftImages
{
    /// <summary>Uniform noise in [−0.8, 0.8] (inside [−1, 1], away from the ends).</summary>
    public static Tensor Random(int seed, int n, int c, int h, int w, DType dtype = DType.Float64) =>
        Tensor.Uniform([n, c, h, w], -0.8, 0.8, new Random(seed), dtype);

    /// <summary>
    /// A structured image in [−1, 1]: a smooth gradient, a bright square with sharp edges, and stripes of two
    /// frequencies, different per channel and sample (seeded), so it has edges and texture that blur removes.
    /// </summary>
    public static Tensor Structured(int seed, int n, int c, int h, int w)
    {
        var rng = new Random(seed);
        var v = new double[n * c * h * w];
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < c; ch++)
            {
                double f1 = 0.5 + rng.NextDouble(), f2 = 2 + 2 * rng.NextDouble(), phase = 6 * rng.NextDouble();
                int x0 = rng.Next(w / 4, w / 2), y0 = rng.Next(h / 4, h / 2), side = w / 3;
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                    {
                        double val = -0.6 + 0.6 * (i + j) / (h + w)
                                     + 0.15 * Math.Sin(f1 * j + phase) + 0.1 * Math.Sin(f2 * i + 0.7 * j)
                                     + (i >= y0 && i < y0 + side && j >= x0 && j < x0 + side ? 0.6 : 0);
                        v[((s * c + ch) * h + i) * w + j] = Math.Clamp(val, -1, 1);
                    }
            }
        return Tensor.FromArray(v, [n, c, h, w]);
    }

    /// <summary>3×3 box blur per plane with replicated edges.</summary>
    public static Tensor BoxBlur(Tensor x)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var v = x.ToDoubleArray();
        var o = new double[v.Length];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    double s = 0;
                    for (int di = -1; di <= 1; di++)
                        for (int dj = -1; dj <= 1; dj++)
                            s += v[p * h * w + Math.Clamp(i + di, 0, h - 1) * w + Math.Clamp(j + dj, 0, w - 1)];
                    o[p * h * w + i * w + j] = s / 9;
                }
        return Tensor.FromArray(o, x.Shape);
    }

    /// <summary>x plus Gaussian noise scaled so that the mean squared difference equals `mse` exactly.</summary>
    public static Tensor WithNoiseOfMse(Tensor x, double mse, int seed)
    {
        var noise = Tensor.Randn(x.Shape, new Random(seed), DType.Float64).ToDoubleArray();
        double m = noise.Select(e => e * e).Average();
        double scale = Math.Sqrt(mse / m);
        var v = x.ToDoubleArray();
        for (int i = 0; i < v.Length; i++) v[i] += scale * noise[i];
        return Tensor.FromArray(v, x.Shape);
    }

    public static double Mse(Tensor a, Tensor b)
    {
        var x = a.ToDoubleArray();
        var y = b.ToDoubleArray();
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (x[i] - y[i]) * (x[i] - y[i]);
        return s / x.Length;
    }

    /// <summary>[N, C, H, W] → [n][c][h, w].</summary>
    public static double[][][,] ToNested(Tensor t)
    {
        int n = t.Shape[0], c = t.Shape[1], h = t.Shape[2], w = t.Shape[3];
        var v = t.ToDoubleArray();
        var o = new double[n][][,];
        for (int s = 0; s < n; s++)
        {
            o[s] = new double[c][,];
            for (int ch = 0; ch < c; ch++)
            {
                o[s][ch] = new double[h, w];
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        o[s][ch][i, j] = v[((s * c + ch) * h + i) * w + j];
            }
        }
        return o;
    }
}
