namespace BlurVae.Tests.Cpu;

/// <summary>Naive loops written straight from the definitions, to check the fast CPU code's forward values.</summary>
internal static class Reference
{
    public static double[] Conv2d(double[] x, double[] w, double[]? b, int n, int cin, int h, int wd, int cout, int kh, int kw, int stride, int pad, out int oh, out int ow)
    {
        oh = (h + 2 * pad - kh) / stride + 1;
        ow = (wd + 2 * pad - kw) / stride + 1;
        var y = new double[n * cout * oh * ow];
        for (int ni = 0; ni < n; ni++)
            for (int co = 0; co < cout; co++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b?[co] ?? 0;
                        for (int ci = 0; ci < cin; ci++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++)
                                {
                                    int ih = i * stride - pad + u, iw = j * stride - pad + v;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                    s += x[((ni * cin + ci) * h + ih) * wd + iw] * w[((co * cin + ci) * kh + u) * kw + v];
                                }
                        y[((ni * cout + co) * oh + i) * ow + j] = s;
                    }
        return y;
    }

    // y[n, co, i·s − p + u, j·s − p + v] += x[n, ci, i, j]·w[ci, co, u, v]: the scatter definition of a transposed convolution.
    public static double[] ConvTranspose2d(double[] x, double[] w, double[]? b, int n, int cin, int h, int wd, int cout, int k, int stride, int pad, int outPad, out int oh, out int ow)
    {
        oh = (h - 1) * stride - 2 * pad + k + outPad;
        ow = (wd - 1) * stride - 2 * pad + k + outPad;
        var y = new double[n * cout * oh * ow];
        for (int ni = 0; ni < n; ni++)
            for (int co = 0; co < cout; co++)
                for (int i = 0; i < oh * ow; i++)
                    y[(ni * cout + co) * oh * ow + i] = b?[co] ?? 0;
        for (int ni = 0; ni < n; ni++)
            for (int ci = 0; ci < cin; ci++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < wd; j++)
                        for (int co = 0; co < cout; co++)
                            for (int u = 0; u < k; u++)
                                for (int v = 0; v < k; v++)
                                {
                                    int yi = i * stride - pad + u, yj = j * stride - pad + v;
                                    if (yi < 0 || yi >= oh || yj < 0 || yj >= ow) continue;
                                    y[((ni * cout + co) * oh + yi) * ow + yj] += x[((ni * cin + ci) * h + i) * wd + j] * w[((ci * cout + co) * k + u) * k + v];
                                }
        return y;
    }

    /// <summary>Unnormalised 2-D DFT of a real [h, w] image, half spectrum [h, w/2+1, 2].</summary>
    public static double[] Rfft2(double[] x, int batch, int h, int w)
    {
        int wh = w / 2 + 1;
        var y = new double[batch * h * wh * 2];
        for (int bi = 0; bi < batch; bi++)
            for (int k1 = 0; k1 < h; k1++)
                for (int k2 = 0; k2 < wh; k2++)
                {
                    double re = 0, im = 0;
                    for (int m = 0; m < h; m++)
                        for (int q = 0; q < w; q++)
                        {
                            double a = -2 * Math.PI * ((double)k1 * m / h + (double)k2 * q / w);
                            double v = x[(bi * h + m) * w + q];
                            re += v * Math.Cos(a);
                            im += v * Math.Sin(a);
                        }
                    y[((bi * h + k1) * wh + k2) * 2] = re;
                    y[((bi * h + k1) * wh + k2) * 2 + 1] = im;
                }
        return y;
    }

    public static void AssertClose(double[] actual, double[] expected, double atol, double rtol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            double tol = atol + rtol * Math.Abs(expected[i]);
            if (Math.Abs(actual[i] - expected[i]) > tol)
                Assert.Fail($"{what}: element {i} is {actual[i]:G10}, expected {expected[i]:G10} (tolerance {tol:G3})");
        }
    }
}
