namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // The embedding and its adjoint move float32 values unchanged: any difference is a misplaced element.
    private static readonly Tolerance OtfTol = new(1e-9, 1e-7);
    // Per-image sums of positive terms (channels·bins of them), and their scaled sum: float32 accumulation, relative.
    private static readonly Tolerance SpectralLossTol = new(1e-6, 2e-5);

    private static void Wiener(ParityHarness h)
    {
        BlurKernelToOtf(h);
        // Odd and even widths (the self-conjugate column W/2 exists only for even W), one and three channels, batch 1
        // and 3, a single bin, and the step's Fashion-MNIST size.
        (int N, int C, int H, int W)[] shapes = h.Options.Quick
            ? [(3, 1, 5, 7), (2, 3, 8, 8)]
            : [(1, 1, 1, 1), (3, 1, 5, 7), (2, 3, 8, 8), (3, 2, 12, 9), (1, 3, 28, 28), (5, 1, 32, 32)];
        foreach (var (n, c, ht, wd) in shapes)
        {
            int bins = ht * (wd / 2 + 1), image = 2 * n * c * bins, kernel = 2 * n * bins;
            // Kernel spectra of magnitude up to √2, like a unit-sum kernel's OTF (|F_k| ≤ 1), with bins near 0.
            float[] fk = h.Uniform(kernel), e = h.Uniform(image), dLoss = h.Uniform(1);
            // The batch mean's 1/n, and another scale (the ELBO's weights ride on it in general).
            double scale = n == 1 ? 0.7 : 1.0 / n;
            foreach (double constant in new[] { 0.025, 0.3 })
            {
                string sizes = $"n={n} c={c} {ht}×{wd} C={constant} scale={scale:G3}";
                h.Check("wiener_weight.forward", sizes,
                    [Out("loss", Garbage(h, 1), SpectralLossTol), Out("perImage", Garbage(h, n), SpectralLossTol), In("fk", fk), In("e", e)],
                    (b, o) => b.WienerWeightForward(o["loss"], o["perImage"], o["fk"], o["e"], n, c, ht, wd, constant, scale));
                // de is a product of rounded factors; dfk has (C − p), which cancels near p = C: there the absolute error
                // is ~ε·p/(p + C)³·|F_k|·Σ|E|², a few 1e-5 at C = 0.025.
                h.Check("wiener_weight.backward", sizes,
                    [Out("de", Garbage(h, image), new(1e-6, 2e-5)), Out("dfk", Garbage(h, kernel), new(2e-4, 1e-4)),
                     In("dLoss", dLoss), In("fk", fk), In("e", e)],
                    (b, o) => b.WienerWeightBackward(o["de"], o["dfk"], o["dLoss"], o["fk"], o["e"], n, c, ht, wd, constant, scale));
            }
            {
                string sizes = $"n={n} c={c} {ht}×{wd} scale={scale:G3}";
                float[] x = h.Uniform(image), xHat = h.Uniform(image);
                h.Check("blur_kernel_fit.forward", sizes,
                    [Out("loss", Garbage(h, 1), SpectralLossTol), Out("perImage", Garbage(h, n), SpectralLossTol), In("x", x), In("xHat", xHat), In("fk", fk)],
                    (b, o) => b.BlurKernelFitForward(o["loss"], o["perImage"], o["x"], o["xHat"], o["fk"], n, c, ht, wd, scale));
                // R = X·F_k − X̂ cancels: absolute error ~ε·|g| per term (g = 2m/(H·W)·dLoss), times C for the channel sum.
                double g = 4.0 / (ht * wd);
                h.Check("blur_kernel_fit.backward", sizes,
                    [Out("dXHat", Garbage(h, image), new(2e-6 * g, 2e-5)), Out("dFk", Garbage(h, kernel), new(1e-5 * g * c, 2e-5)),
                     In("dLoss", dLoss), In("x", x), In("xHat", xHat), In("fk", fk)],
                    (b, o) => b.BlurKernelFitBackward(o["dXHat"], o["dFk"], o["dLoss"], o["x"], o["xHat"], o["fk"], n, c, ht, wd, scale));
            }
        }
        FocalFrequencyWeight(h);
    }

    // The focal frequency loss's online weight: ratios to the plane's maximum, in [0, 2]; float32 powers and square roots.
    private static void FocalFrequencyWeight(ParityHarness h)
    {
        (int Planes, int H, int W)[] shapes = h.Options.Quick ? [(3, 5, 7)] : [(1, 1, 1), (3, 5, 7), (6, 8, 8), (2, 28, 28)];
        foreach (var (planes, ht, wd) in shapes)
        {
            int bins = ht * (wd / 2 + 1);
            var spectrum = h.Uniform(2 * planes * bins);
            // The last plane all zero: 0/0 must give weight 0 (or 1 everywhere for α = 0, where |d|^0 = 1).
            if (planes > 1) Array.Clear(spectrum, 2 * (planes - 1) * bins, 2 * bins);
            foreach (double alpha in new[] { 0.0, 0.5, 1.0, 2.0 })
                h.Check("focal_frequency_weight", $"planes={planes} {ht}×{wd} α={alpha}",
                    [Out("weight", Garbage(h, planes * bins), new(1e-6, 2e-5)), In("spectrum", spectrum)],
                    (b, o) => b.FocalFrequencyWeight(o["weight"], o["spectrum"], planes, ht, wd, alpha));
        }
    }

    private static void BlurKernelToOtf(ParityHarness h)
    {
        // ks = 1 (no roll), ks = H = W (the kernel fills the grid), odd and even grids, the step's 11×11 on 32×32.
        (int N, int Ks, int H, int W)[] shapes = h.Options.Quick
            ? [(3, 3, 5, 7), (2, 5, 8, 8)]
            : [(1, 1, 1, 1), (3, 3, 5, 7), (2, 5, 8, 8), (1, 7, 7, 7), (3, 11, 12, 13), (2, 11, 32, 32)];
        foreach (var (n, ks, ht, wd) in shapes)
        {
            int grid = n * ht * wd, kernel = n * ks * ks;
            string sizes = $"n={n} ks={ks} {ht}×{wd}";
            h.Check("blur_kernel_to_otf.forward", sizes, [Out("output", Garbage(h, grid), OtfTol), In("kernel", h.Uniform(kernel))],
                (b, o) => b.BlurKernelToOtfForward(o["output"], o["kernel"], n, ks, ht, wd));
            h.Check("blur_kernel_to_otf.backward", sizes, [Out("dKernel", Garbage(h, kernel), OtfTol), In("dOutput", h.Uniform(grid))],
                (b, o) => b.BlurKernelToOtfBackward(o["dKernel"], o["dOutput"], n, ks, ht, wd));
        }
    }
}
