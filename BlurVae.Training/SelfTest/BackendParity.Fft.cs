namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // A float32 FFT's error grows like log2(n)·‖x‖₂ (n = h·w terms per output); outputs are of size ~√n for the
    // forward transform of values in [-1, 1], ~n·|x| for the unnormalised inverse.
    private static Tolerance FftTol(int h, int w, double scale) => new(2e-7 * scale * Math.Sqrt(h * w) * Math.Max(1, Math.Log2(h * w)), 1e-5);

    private static void Fft(ParityHarness h)
    {
        // Odd and even sides (cuFFT and the Stockham FFT take different paths for powers of two, small primes and others).
        (int Batch, int H, int W)[] shapes = h.Options.Quick ? [(3, 5, 7), (2, 8, 16)] : [(1, 1, 1), (3, 5, 7), (2, 8, 16), (1, 12, 9), (2, 32, 32), (1, 28, 28)];
        foreach (var (batch, ht, wd) in shapes)
        {
            int real = batch * ht * wd, half = batch * ht * (wd / 2 + 1) * 2;
            string sizes = $"batch={batch} {ht}×{wd}";
            Operand[] fwd = [Out("y", Garbage(h, half), FftTol(ht, wd, 1)), In("x", h.Uniform(real))];
            void Forward(Kernels.IBackend b, OperandBuffers o) => b.Rfft2(o["y"], o["x"], batch, ht, wd);
            h.Check("rfft2", sizes, fwd, Forward);
            // The inverse gets a true half spectrum (of a real image): the imaginary parts of the self-conjugate bins,
            // which C2R transforms treat differently, are then zero up to rounding.
            var spectrum = h.OnReference(fwd, Forward, "y")[0];
            // Both ways of calling it: c kept (a device copies it for C2R), and c given up (C2R consumes it, as Rfft2's backward does).
            foreach (bool overwrite in new[] { false, true })
                h.Check("irfft2", overwrite ? $"{sizes} overwriting c" : sizes, [Out("x", Garbage(h, real), FftTol(ht, wd, Math.Sqrt(ht * wd))), In("c", spectrum)],
                    (b, o) => b.Irfft2(o["x"], o["c"], batch, ht, wd, overwrite));
        }
    }
}
