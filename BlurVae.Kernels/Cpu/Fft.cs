using System.Numerics;

namespace BlurVae.Kernels.Cpu;

// Temporary naive DFT (replaced by the mixed-radix FFT).
public static class Fft
{
    public static void Rfft2<T>(Span<T> y, ReadOnlySpan<T> x, int batch, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int wh = w / 2 + 1;
        for (int bi = 0; bi < batch; bi++)
            for (int k1 = 0; k1 < h; k1++)
                for (int k2 = 0; k2 < wh; k2++)
                {
                    double re = 0, im = 0;
                    for (int m = 0; m < h; m++)
                        for (int n = 0; n < w; n++)
                        {
                            double ang = -2 * Math.PI * ((double)k1 * m / h + (double)k2 * n / w);
                            double v = double.CreateTruncating(x[(bi * h + m) * w + n]);
                            re += v * Math.Cos(ang);
                            im += v * Math.Sin(ang);
                        }
                    int o = ((bi * h + k1) * wh + k2) * 2;
                    y[o] = T.CreateTruncating(re);
                    y[o + 1] = T.CreateTruncating(im);
                }
    }

    public static void Irfft2<T>(Span<T> x, ReadOnlySpan<T> c, int batch, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int wh = w / 2 + 1;
        for (int bi = 0; bi < batch; bi++)
            for (int m = 0; m < h; m++)
                for (int n = 0; n < w; n++)
                {
                    double s = 0;
                    for (int k1 = 0; k1 < h; k1++)
                        for (int k2 = 0; k2 < w; k2++)
                        {
                            // Hermitian extension of the half spectrum.
                            int kk1 = k1, kk2 = k2;
                            double sign = 1;
                            if (k2 >= wh) { kk1 = (h - k1) % h; kk2 = w - k2; sign = -1; }
                            int o = ((bi * h + kk1) * wh + kk2) * 2;
                            double re = double.CreateTruncating(c[o]), im = sign * double.CreateTruncating(c[o + 1]);
                            bool selfConj = k2 == 0 || (w % 2 == 0 && k2 == w / 2);
                            if (selfConj)
                            {
                                // irfft takes the real part of the Hermitian-symmetrised column.
                                int o2 = ((bi * h + (h - k1) % h) * wh + k2) * 2;
                                re = 0.5 * (re + double.CreateTruncating(c[o2]));
                                im = 0.5 * (im - double.CreateTruncating(c[o2 + 1]));
                            }
                            double ang = 2 * Math.PI * ((double)k1 * m / h + (double)k2 * n / w);
                            s += re * Math.Cos(ang) - im * Math.Sin(ang);
                        }
                    x[(bi * h + m) * w + n] = T.CreateTruncating(s);
                }
    }
}
