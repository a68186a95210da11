namespace BlurVae.Kernels.Cpu;

// The blur model's fused loss pieces (the CPU twins of kernels/wiener.cuh and kernels/losses.cuh): the kernel's OTF
// embedding, the Wiener-weighted error and the kernel fit by Parseval, each one pass over the spectra instead of a
// chain of generic ops. Work is split over images (each image's bins are contiguous, and its kernel spectrum is read
// once and applied to every channel); per-image sums are accumulated in double, so float32 loses nothing to the sum.
public sealed partial class CpuBackend
{
    public void BlurKernelToOtfForward(BackendBuffer output, BackendBuffer kernel, int n, int kernelSize, int height, int width)
    {
        ShapeRules.BlurKernelGrid(n, kernelSize, height, width);
        ShapeRules.Length(output, (long)n * height * width, nameof(output));
        ShapeRules.Length(kernel, (long)n * kernelSize * kernelSize, nameof(kernel));
        if (IsF32(kernel)) Wiener<float>.Embed(Arr<float>(output), Arr<float>(kernel), n, kernelSize, height, width);
        else Wiener<double>.Embed(Arr<double>(output), Arr<double>(kernel), n, kernelSize, height, width);
    }

    public void BlurKernelToOtfBackward(BackendBuffer dKernel, BackendBuffer dOutput, int n, int kernelSize, int height, int width)
    {
        ShapeRules.BlurKernelGrid(n, kernelSize, height, width);
        ShapeRules.Length(dKernel, (long)n * kernelSize * kernelSize, nameof(dKernel));
        ShapeRules.Length(dOutput, (long)n * height * width, nameof(dOutput));
        if (IsF32(dOutput)) Wiener<float>.Gather(Arr<float>(dKernel), Arr<float>(dOutput), n, kernelSize, height, width);
        else Wiener<double>.Gather(Arr<double>(dKernel), Arr<double>(dOutput), n, kernelSize, height, width);
    }

    public void WienerWeightForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer fk, BackendBuffer e, int n, int channels, int height, int width,
                                    double constant, double scale)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        ShapeRules.WienerConstant(constant);
        CheckBatchLoss(loss, perImage, n);
        ShapeRules.Length(fk, 2L * n * bins, nameof(fk));
        ShapeRules.Length(e, 2L * n * channels * bins, nameof(e));
        if (IsF32(fk)) Wiener<float>.WeightForward(Arr<float>(perImage), Arr<float>(fk), Arr<float>(e), n, channels, height, width, constant);
        else Wiener<double>.WeightForward(Arr<double>(perImage), Arr<double>(fk), Arr<double>(e), n, channels, height, width, constant);
        BatchLoss(loss, perImage, n, scale);
    }

    public void WienerWeightBackward(BackendBuffer de, BackendBuffer dfk, BackendBuffer dLoss, BackendBuffer fk, BackendBuffer e,
                                     int n, int channels, int height, int width, double constant, double scale)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        ShapeRules.WienerConstant(constant);
        ShapeRules.Length(de, 2L * n * channels * bins, nameof(de));
        ShapeRules.Length(dfk, 2L * n * bins, nameof(dfk));
        ShapeRules.Length(dLoss, 1, nameof(dLoss));
        ShapeRules.Length(fk, 2L * n * bins, nameof(fk));
        ShapeRules.Length(e, 2L * n * channels * bins, nameof(e));
        if (IsF32(fk)) Wiener<float>.WeightBackward(Arr<float>(de), Arr<float>(dfk), ScaledGrad<float>(dLoss, scale), Arr<float>(fk), Arr<float>(e), n, channels, height, width, constant);
        else Wiener<double>.WeightBackward(Arr<double>(de), Arr<double>(dfk), ScaledGrad<double>(dLoss, scale), Arr<double>(fk), Arr<double>(e), n, channels, height, width, constant);
    }

    public void BlurKernelFitForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                                     int n, int channels, int height, int width, double scale)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        CheckBatchLoss(loss, perImage, n);
        ShapeRules.Length(x, 2L * n * channels * bins, nameof(x));
        ShapeRules.Length(xHat, 2L * n * channels * bins, nameof(xHat));
        ShapeRules.Length(fk, 2L * n * bins, nameof(fk));
        if (IsF32(fk)) Wiener<float>.FitForward(Arr<float>(perImage), Arr<float>(x), Arr<float>(xHat), Arr<float>(fk), n, channels, height, width);
        else Wiener<double>.FitForward(Arr<double>(perImage), Arr<double>(x), Arr<double>(xHat), Arr<double>(fk), n, channels, height, width);
        BatchLoss(loss, perImage, n, scale);
    }

    public void BlurKernelFitBackward(BackendBuffer dXHat, BackendBuffer dFk, BackendBuffer dLoss, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                                  int n, int channels, int height, int width, double scale)
    {
        int bins = ShapeRules.HalfSpectrumBins(n, channels, height, width);
        ShapeRules.Length(dXHat, 2L * n * channels * bins, nameof(dXHat));
        ShapeRules.Length(dFk, 2L * n * bins, nameof(dFk));
        ShapeRules.Length(dLoss, 1, nameof(dLoss));
        ShapeRules.Length(x, 2L * n * channels * bins, nameof(x));
        ShapeRules.Length(xHat, 2L * n * channels * bins, nameof(xHat));
        ShapeRules.Length(fk, 2L * n * bins, nameof(fk));
        if (IsF32(fk)) Wiener<float>.FitBackward(Arr<float>(dXHat), Arr<float>(dFk), ScaledGrad<float>(dLoss, scale), Arr<float>(x), Arr<float>(xHat), Arr<float>(fk), n, channels, height, width);
        else Wiener<double>.FitBackward(Arr<double>(dXHat), Arr<double>(dFk), ScaledGrad<double>(dLoss, scale), Arr<double>(x), Arr<double>(xHat), Arr<double>(fk), n, channels, height, width);
    }

    private static class Wiener<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static T Multiplicity(int v, int w) => T.CreateTruncating(ShapeRules.ColumnMultiplicity(v, w));

        // Per-image work in multiply-adds, for Parallelism.ForEach's grain decision.
        private static long Cost(int channels, int bins) => 8L * channels * bins;

        public static void Embed(T[] output, T[] k, int n, int ks, int h, int w)
        {
            int r = ks / 2;
            Parallelism.ForEach(n, (long)h * w, i =>
            {
                var o = output.AsSpan(i * h * w, h * w);
                o.Clear();
                // Row a of the kernel lands on row (a − r) mod h, column b on (b − r) mod w.
                for (int a = 0; a < ks; a++)
                {
                    int p = a - r < 0 ? a - r + h : a - r;
                    var src = k.AsSpan((i * ks + a) * ks, ks);
                    var row = o.Slice(p * w, w);
                    src[r..].CopyTo(row);                      // columns 0 .. ks−1−r
                    src[..r].CopyTo(row[(w - r)..]);           // columns w−r .. w−1
                }
            });
        }

        public static void Gather(T[] dk, T[] dout, int n, int ks, int h, int w)
        {
            int r = ks / 2;
            Parallelism.ForEach(n, (long)ks * ks, i =>
            {
                for (int a = 0; a < ks; a++)
                {
                    int p = a - r < 0 ? a - r + h : a - r;
                    var row = dout.AsSpan((i * h + p) * w, w);
                    var dst = dk.AsSpan((i * ks + a) * ks, ks);
                    row[..(ks - r)].CopyTo(dst[r..]);
                    row[(w - r)..].CopyTo(dst[..r]);
                }
            });
        }

        // Σ_f m_f·term(f, F_k[i, f]) over the half-spectrum bins f of image i (m_f the column multiplicity), summed per
        // row in T and the rows in double: the reduction order both spectral losses (Wiener weight, blur-kernel fit) share.
        // m_f is 1 or 2, so applying it after the term rounds exactly as before it.
        // The term is a struct (no delegate and closure per image, a call the JIT inlines per bin).
        private static double SpectrumSum<TTerm>(T[] fk, int i, int h, int w, TTerm term) where TTerm : struct, ISpectrumTerm
        {
            int wh = w / 2 + 1, bins = h * wh;
            double s = 0;
            for (int u = 0; u < h; u++)
            {
                T row = T.Zero;
                for (int v = 0; v < wh; v++)
                {
                    int f = u * wh + v;
                    long kf = 2L * (i * bins + f);
                    row += Multiplicity(v, w) * term.At(f, fk[kf], fk[kf + 1]);
                }
                s += double.CreateTruncating(row);
            }
            return s;
        }

        public interface ISpectrumTerm
        {
            /// <summary>The summand at bin f of the image, given F_k there (kr + i·ki).</summary>
            T At(int f, T kr, T ki);
        }

        // The Wiener weight's summand: |W_f|²·Σ_c |e_c,f|² with |W|² = p/(p + C)², p = |F_k|².
        private readonly struct WeightTerm(T[] e, int i, int channels, int bins, T cst) : ISpectrumTerm
        {
            public T At(int f, T kr, T ki)
            {
                T p = kr * kr + ki * ki, d = p + cst;
                T err = T.Zero;
                for (int c = 0; c < channels; c++)
                {
                    long o = 2L * ((i * channels + c) * (long)bins + f);
                    err += e[o] * e[o] + e[o + 1] * e[o + 1];
                }
                return p / (d * d) * err;
            }
        }

        // The blur-kernel fit's summand: Σ_c |F_x,c,f·F_k,f − F_x̂,c,f|².
        private readonly struct FitTerm(T[] x, T[] xHat, int i, int channels, int bins) : ISpectrumTerm
        {
            public T At(int f, T kr, T ki)
            {
                T err = T.Zero;
                for (int c = 0; c < channels; c++)
                {
                    long o = 2L * ((i * channels + c) * (long)bins + f);
                    T ar = x[o], ai = x[o + 1];
                    T rr = ar * kr - ai * ki - xHat[o];
                    T ri = ar * ki + ai * kr - xHat[o + 1];
                    err += rr * rr + ri * ri;
                }
                return err;
            }
        }

        public static void WeightForward(T[] loss, T[] fk, T[] e, int n, int channels, int h, int w, double constant)
        {
            int wh = w / 2 + 1, bins = h * wh;
            T cst = T.CreateTruncating(constant);
            Parallelism.ForEach(n, Cost(channels, bins), i =>
            {
                double s = SpectrumSum(fk, i, h, w, new WeightTerm(e, i, channels, bins, cst));
                loss[i] = T.CreateTruncating(0.5 * s);
            });
        }

        public static void WeightBackward(T[] de, T[] dfk, T dLoss, T[] fk, T[] e, int n, int channels, int h, int w, double constant)
        {
            int wh = w / 2 + 1, bins = h * wh;
            T cst = T.CreateTruncating(constant);
            Parallelism.ForEach(n, Cost(channels, bins), i =>
            {
                for (int f = 0; f < bins; f++)
                {
                    T g = dLoss * Multiplicity(f % wh, w);
                    long kf = 2L * (i * bins + f);
                    T kr = fk[kf], ki = fk[kf + 1];
                    T p = kr * kr + ki * ki, d = p + cst;
                    T gain = g * (p / (d * d));
                    T err = T.Zero;
                    for (int c = 0; c < channels; c++)
                    {
                        long o = 2L * ((i * channels + c) * (long)bins + f);
                        T er = e[o], ei = e[o + 1];
                        err += er * er + ei * ei;
                        de[o] = gain * er;
                        de[o + 1] = gain * ei;
                    }
                    // d|W|²/dp = (C − p)/(p + C)³ and dp/d(re, im) = 2(re, im), times the ½ of the loss.
                    T s = g * err * ((cst - p) / (d * d * d));
                    dfk[kf] = s * kr;
                    dfk[kf + 1] = s * ki;
                }
            });
        }

        public static void FitForward(T[] loss, T[] x, T[] xHat, T[] fk, int n, int channels, int h, int w)
        {
            int wh = w / 2 + 1, bins = h * wh;
            Parallelism.ForEach(n, Cost(channels, bins), i =>
            {
                double s = SpectrumSum(fk, i, h, w, new FitTerm(x, xHat, i, channels, bins));
                loss[i] = T.CreateTruncating(s / ((double)h * w));
            });
        }

        public static void FitBackward(T[] dXHat, T[] dFk, T dLoss, T[] x, T[] xHat, T[] fk, int n, int channels, int h, int w)
        {
            int wh = w / 2 + 1, bins = h * wh;
            T scale = T.CreateTruncating(2.0 / ((double)h * w));
            Parallelism.ForEach(n, Cost(channels, bins), i =>
            {
                for (int f = 0; f < bins; f++)
                {
                    T g = dLoss * scale * Multiplicity(f % wh, w);
                    long kf = 2L * (i * bins + f);
                    T kr = fk[kf], ki = fk[kf + 1];
                    T sr = T.Zero, si = T.Zero;
                    for (int c = 0; c < channels; c++)
                    {
                        long o = 2L * ((i * channels + c) * (long)bins + f);
                        T ar = x[o], ai = x[o + 1];
                        T rr = g * (ar * kr - ai * ki - xHat[o]);
                        T ri = g * (ar * ki + ai * kr - xHat[o + 1]);
                        dXHat[o] = -rr;
                        dXHat[o + 1] = -ri;
                        sr += rr * ar + ri * ai;
                        si += ri * ar - rr * ai;
                    }
                    dFk[kf] = sr;
                    dFk[kf + 1] = si;
                }
            });
        }
    }
}
