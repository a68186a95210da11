using System.Numerics;

namespace BlurVae.Tests.Losses;

/// <summary>
/// Direct double-precision evaluations written from the definitions (naive DFTs, explicit circulant matrices,
/// convolution loops), independent of the FFT and autograd code they check, plus test-data builders.
/// </summary>
internal static class LossReference
{
    // ---- data ----

    public static Tensor Uniform(int seed, double low, double high, params int[] shape) =>
        Tensor.Uniform(shape, low, high, new Random(seed), DType.Float64);

    /// <summary>Normalised isotropic Gaussians [n, ks, ks], one width per image.</summary>
    public static Tensor Gaussian(int ks, params double[] sigmas)
    {
        int r = ks / 2;
        var k = new double[sigmas.Length * ks * ks];
        for (int i = 0; i < sigmas.Length; i++)
        {
            double sum = 0;
            for (int a = 0; a < ks; a++)
                for (int b = 0; b < ks; b++)
                    sum += k[(i * ks + a) * ks + b] = Math.Exp(-((a - r) * (a - r) + (b - r) * (b - r)) / (2 * sigmas[i] * sigmas[i]));
            for (int j = 0; j < ks * ks; j++) k[i * ks * ks + j] /= sum;
        }
        return Tensor.FromArray(k, [sigmas.Length, ks, ks]);
    }

    /// <summary>Delta kernels [n, ks, ks]: 1 at the centre.</summary>
    public static Tensor Delta(int n, int ks)
    {
        var k = new double[n * ks * ks];
        for (int i = 0; i < n; i++) k[i * ks * ks + ks / 2 * ks + ks / 2] = 1;
        return Tensor.FromArray(k, [n, ks, ks]);
    }

    // ---- the circulant model ----

    /// <summary>Kernel i of k[n, ks, ks] placed on an h×w grid with k[a, b] at ((a − r) mod h, (b − r) mod w).</summary>
    public static double[] Embed(double[] k, int i, int ks, int h, int w)
    {
        int r = ks / 2;
        var pad = new double[h * w];
        for (int a = 0; a < ks; a++)
            for (int b = 0; b < ks; b++)
                pad[(a - r + h) % h * w + (b - r + w) % w] += k[(i * ks + a) * ks + b];
        return pad;
    }

    /// <summary>Full 2-D DFT of a real h×w plane, e^(−2πi(up/h + vq/w)), times `scale`.</summary>
    public static Complex[] Dft(ReadOnlySpan<double> x, int h, int w, double scale = 1.0)
    {
        var y = new Complex[h * w];
        for (int u = 0; u < h; u++)
            for (int v = 0; v < w; v++)
            {
                Complex s = 0;
                for (int p = 0; p < h; p++)
                    for (int q = 0; q < w; q++)
                        s += x[p * w + q] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((double)u * p / h + (double)v * q / w));
                y[u * w + v] = s * scale;
            }
        return y;
    }

    /// <summary>Full inverse 2-D DFT, e^(+2πi(up/h + vq/w)), times `scale`.</summary>
    public static Complex[] InverseDft(Complex[] f, int h, int w, double scale)
    {
        var y = new Complex[h * w];
        for (int p = 0; p < h; p++)
            for (int q = 0; q < w; q++)
            {
                Complex s = 0;
                for (int u = 0; u < h; u++)
                    for (int v = 0; v < w; v++)
                        s += f[u * w + v] * Complex.FromPolarCoordinates(1, 2 * Math.PI * ((double)u * p / h + (double)v * q / w));
                y[p * w + q] = s * scale;
            }
        return y;
    }

    /// <summary>(x ∗ k)[p, q] = Σ_ab k[a, b]·x[(p − a + r) mod h, (q − b + r) mod w] for one plane.</summary>
    public static double[] CircularConvolution(ReadOnlySpan<double> x, double[] k, int i, int ks, int h, int w)
    {
        int r = ks / 2;
        var y = new double[h * w];
        for (int p = 0; p < h; p++)
            for (int q = 0; q < w; q++)
            {
                double s = 0;
                for (int a = 0; a < ks; a++)
                    for (int b = 0; b < ks; b++)
                        s += k[(i * ks + a) * ks + b] * x[((p - a + r) % h + h) % h * w + ((q - b + r) % w + w) % w];
                y[p * w + q] = s;
            }
        return y;
    }

    /// <summary>The hw×hw matrix of circular convolution with an embedded kernel: M[(p,q), (p',q')] = pad[p − p', q − q'].</summary>
    public static double[,] CirculantMatrix(double[] pad, int h, int w)
    {
        int d = h * w;
        var m = new double[d, d];
        for (int p = 0; p < h; p++)
            for (int q = 0; q < w; q++)
                for (int p2 = 0; p2 < h; p2++)
                    for (int q2 = 0; q2 < w; q2++)
                        m[p * w + q, p2 * w + q2] = pad[(p - p2 + h) % h * w + (q - q2 + w) % w];
        return m;
    }

    /// <summary>log|det A| by Gaussian elimination with partial pivoting (A is overwritten).</summary>
    public static double LogAbsDeterminant(double[,] a)
    {
        int d = a.GetLength(0);
        double sum = 0;
        for (int col = 0; col < d; col++)
        {
            int pivot = col;
            for (int row = col + 1; row < d; row++)
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col])) pivot = row;
            if (pivot != col)
                for (int j = 0; j < d; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            double diag = a[col, col];
            sum += Math.Log(Math.Abs(diag));
            for (int row = col + 1; row < d; row++)
            {
                double f = a[row, col] / diag;
                if (f == 0) continue;
                for (int j = col; j < d; j++) a[row, j] -= f * a[col, j];
            }
        }
        return sum;
    }

    public static void AssertClose(double[] actual, double[] expected, double tolerance, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance), $"{what}: element {i}");
    }
}
