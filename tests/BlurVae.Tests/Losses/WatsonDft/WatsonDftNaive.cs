
namespace BlurVae.Tests.Losses.WatsonDft;

/// <summary>
/// An independent, loop-by-loop evaluation of the reference Watson-DFT loss (SteffenCzolbe/PerceptualSimilarity:
/// shift wrapper → colour wrapper → WatsonDistanceFft), in plain doubles: a direct 8×8 DFT per block, no tensors, no
/// autograd. Used to check the tensor implementation's values.
/// </summary>
internal static class WatsonDftNaive
{
    private const double Eps = 1e-10;

    /// <summary>images [n][c][h, w] in [−1, 1]; shift = (row, column) offset into the 4-pixel replicate padding, or null.</summary>
    public static double[] PerSample(double[][][,] x, double[][][,] xHat, WatsonParameters? gray, WatsonColorParameters? color, (int Dy, int Dx)? shift)
    {
        int n = x.Length;
        var target = new double[n][][,];
        var input = new double[n][][,];
        for (int i = 0; i < n; i++)
        {
            target[i] = x[i].Select(p => Prepare(p, shift)).ToArray();
            input[i] = xHat[i].Select(p => Prepare(p, shift)).ToArray();
        }
        if (gray is not null)
            return Channel(target.Select(t => t[0]).ToArray(), input.Select(t => t[0]).ToArray(), gray);

        var result = new double[n];
        var transform = color!.Transform;
        var bias = color.Bias;
        var wt = color.ChannelWTilde;
        double z = wt.Sum(Math.Exp);
        for (int c = 0; c < 3; c++)
        {
            var t = target.Select(rgb => Ycc(rgb, transform, bias, c)).ToArray();
            var u = input.Select(rgb => Ycc(rgb, transform, bias, c)).ToArray();
            var d = Channel(t, u, c == 0 ? color.Y : c == 1 ? color.Cb : color.Cr);
            for (int i = 0; i < n; i++) result[i] += Math.Exp(wt[c]) / z * d[i];
        }
        return result;
    }

    // [−1, 1] → [0, 1], then the shift wrapper: replicate-pad by 4, crop H×W at (dy, dx).
    private static double[,] Prepare(double[,] plane, (int Dy, int Dx)? shift)
    {
        int h = plane.GetLength(0), w = plane.GetLength(1);
        var o = new double[h, w];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                int si = i, sj = j;
                if (shift is { } s)
                {
                    si = Math.Clamp(i + s.Dy - 4, 0, h - 1);
                    sj = Math.Clamp(j + s.Dx - 4, 0, w - 1);
                }
                o[i, j] = (plane[si, sj] + 1) / 2;
            }
        return o;
    }

    private static double[,] Ycc(double[][,] rgb, double[,] t, double[] bias, int c)
    {
        int h = rgb[0].GetLength(0), w = rgb[0].GetLength(1);
        var o = new double[h, w];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                o[i, j] = rgb[0][i, j] * t[0, c] + rgb[1][i, j] * t[1, c] + rgb[2][i, j] * t[2, c] + bias[c];
        return o;
    }

    /// <summary>WatsonDistanceFft with reduction 'none' over a batch of single-channel images.</summary>
    private static double[] Channel(double[][,] target, double[][,] input, WatsonParameters p)
    {
        int n = target.Length, b = p.BlockSize, cols = b / 2 + 1;
        var c0 = target.Select(t => Blocks(t, b)).ToArray(); // [n][k][u, v] complex
        var c1 = input.Select(t => Blocks(t, b)).ToArray();
        int k = c0[0].Length;

        var tTilde = p.TTilde;
        var wPhaseTilde = p.WPhaseTilde;
        double alpha = p.Alpha, beta = p.Beta, w = 1 / (1 + Math.Exp(-p.WTilde));

        double avgLum = 0;
        for (int i = 0; i < n; i++)
            for (int kk = 0; kk < k; kk++)
                avgLum += Amp(c0[i][kk][0, 0]);
        avgLum /= n * k;

        var result = new double[n];
        for (int i = 0; i < n; i++)
        {
            double pooled = 0, phase = 0;
            for (int kk = 0; kk < k; kk++)
            {
                double lum = Math.Pow((Amp(c0[i][kk][0, 0]) + Eps) / (avgLum + Eps), alpha);
                for (int u = 0; u < b; u++)
                    for (int v = 0; v < cols; v++)
                    {
                        var a = c0[i][kk][u, v];
                        var bb = c1[i][kk][u, v];
                        double a0 = Amp(a), a1 = Amp(bb);
                        double tl = Math.Exp(tTilde[u, v]) * lum;
                        double m = Math.Pow(a0 + Eps, w) * Math.Pow(tl, 1 - w);
                        double mx = Math.Max(tl, m);
                        double et = Math.Exp(tl - mx), em = Math.Exp(m - mx);
                        double s = (tl * et + m * em) / (et + em);
                        pooled += Math.Pow(Math.Abs((a0 - a1) / s) + Eps, beta) + Eps;

                        bool real = (u == 0 || u == b / 2) && (v == 0 || v == b / 2);
                        double wPhase = real ? 0 : Math.Exp(wPhaseTilde[u, v]);
                        double p0 = Math.Atan2(a.Im, a.Re + Eps), p1 = Math.Atan2(bb.Im, bb.Re + Eps);
                        phase += Math.Acos(Math.Cos(p0 - p1) * (1 - Eps * 1e3)) * wPhase;
                    }
            }
            result[i] = Math.Pow(pooled, 1 / beta) + phase;
        }
        return result;
    }

    private static double Amp((double Re, double Im) c) => Math.Sqrt((c.Re + Eps) * (c.Re + Eps) + (c.Im + Eps) * (c.Im + Eps));

    /// <summary>Blocks in row-major order, each the half spectrum rfft2(block)[u, v] / b², by the DFT's definition.</summary>
    private static (double Re, double Im)[][,] Blocks(double[,] img, int b)
    {
        int h = img.GetLength(0), w = img.GetLength(1), cols = b / 2 + 1;
        var list = new List<(double, double)[,]>();
        for (int bi = 0; bi < h / b; bi++)
            for (int bj = 0; bj < w / b; bj++)
            {
                var c = new (double, double)[b, cols];
                for (int u = 0; u < b; u++)
                    for (int v = 0; v < cols; v++)
                    {
                        double re = 0, im = 0;
                        for (int y = 0; y < b; y++)
                            for (int xx = 0; xx < b; xx++)
                            {
                                double angle = -2 * Math.PI * ((double)u * y / b + (double)v * xx / b);
                                double f = img[bi * b + y, bj * b + xx];
                                re += f * Math.Cos(angle);
                                im += f * Math.Sin(angle);
                            }
                        c[u, v] = (re / (b * b), im / (b * b));
                    }
                list.Add(c);
            }
        return list.ToArray();
    }
}
