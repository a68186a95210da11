// GemmComparison.cs - times BlurVae's managed Gemm against OpenBLAS at size^3 (single and double precision),
// with the same thread count for both, and cross-checks the two results.

using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Benchmarks;

namespace BlurVae.Bench;

/// <summary>Side-by-side GEMM throughput of <see cref="Gemm"/> and OpenBLAS.</summary>
public static class GemmComparison
{
    /// <summary>Conv-shaped products of the fashion32 step (batch 64): im2col forward [Cout, Cin·9]·[Cin·9, N·S],
    /// backward-input [Cin·9, Cout]ᵀ·[Cout, N·S] and backward-weight [Cout, N·S]·[Cin·9, N·S]ᵀ, and a deep 2×2 layer.
    /// Threads 0: the command's thread count.</summary>
    private static readonly Shape[] ConvShapes =
    [
        new("conv 32→64 fwd (8×8 out)", 64, 4096, 288, false, false),
        new("conv 32→64 bwd-input", 288, 4096, 64, true, false),
        new("conv 32→64 bwd-weight", 64, 288, 4096, false, true),
        new("conv 128→256 fwd (2×2 out)", 256, 256, 1152, false, false),
    ];

    /// <summary>
    /// The GEMMs that carry most of a training step's multiply-adds (counted per call during `phases`), as the plain
    /// GEMM of the same shape and transposes. The convolutions cut the batch into chunks of images and run one
    /// single-threaded GEMM per chunk on each core (CpuBackend.Conv.cs), so most rows are 1-thread products; their
    /// B operand comes from the im2col packer there (Gemm.Sourced.cs), here from a stored matrix.
    /// fwd = [Cout, kdim]·col, bwd-input = [Cout, kdim]ᵀ·dy, bwd-weight = dy·colᵀ.
    /// </summary>
    private static readonly Shape[] StepShapes =
    [
        new("fashion32 32×256×512 fwd", 32, 256, 512, false, false, 1),
        new("fashion32 32×512×256 bwd-weight", 32, 512, 256, false, true, 1),
        new("fashion32 512×256×32 bwd-input", 512, 256, 32, true, false, 1),
        new("fashion32 64×256×512 fwd", 64, 256, 512, false, false, 1),
        new("fashion32 64×512×256 bwd-weight", 64, 512, 256, false, true, 1),
        new("fashion32 512×256×64 bwd-input", 512, 256, 64, true, false, 1),
        new("fashion32 2048×256×256 bwd-input", 2048, 256, 256, true, false),
        new("fashion32 256×2048×256 bwd-weight", 256, 2048, 256, false, true),
        new("celeba64 64×1024×1024 fwd", 64, 1024, 1024, false, false, 1),
        new("celeba64 64×1024×1024 bwd-weight", 64, 1024, 1024, false, true, 1),
        new("celeba64 1024×1024×64 bwd-input", 1024, 1024, 64, true, false, 1),
        new("celeba64 128×256×1024 fwd", 128, 256, 1024, false, false, 1),
        new("celeba64 128×1024×256 bwd-weight", 128, 1024, 256, false, true, 1),
        new("celeba64 1024×256×128 bwd-input", 1024, 256, 128, true, false, 1),
        new("celeba64 128×256×576 fwd", 128, 256, 576, false, false, 1),
        new("celeba64 128×576×256 bwd-weight", 128, 576, 256, false, true, 1),
        new("celeba64 576×256×128 bwd-input", 576, 256, 128, true, false, 1),
        new("celeba64 512×256×4096 fwd", 512, 256, 4096, false, false, 1),
        new("celeba64 512×4096×256 bwd-weight", 512, 4096, 256, false, true, 1),
        new("celeba64 4096×256×512 bwd-input", 4096, 256, 512, true, false, 1),
    ];

    private readonly record struct Shape(string Name, int M, int N, int K, bool TransA, bool TransB, int Threads = 0)
    {
        public double Flops => 2.0 * M * N * K;
    }

    /// <summary>
    /// Runs the comparison and prints a table (GFLOP/s = 2·m·n·k / median seconds) to <paramref name="output"/>
    /// (Console.Out by default): size³ in both precisions, then the conv-shaped single-precision products.
    /// Returns 0, or 1 when OpenBLAS cannot be loaded.
    /// </summary>
    public static int Run(int size = 1024, int threads = 2, TextWriter? output = null, int repeats = 0)
    {
        output ??= Console.Out;
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "size must be positive.");
        if (threads <= 0) threads = Environment.ProcessorCount;

        if (!OpenBlas.TryLoad(out string message))
        {
            output.WriteLine($"GEMM comparison skipped: {message}");
            return 1;
        }

        OpenBlas.SetNumThreads(threads);
        output.WriteLine(message);
        output.WriteLine($"BlurVae micro-kernel: {Gemm.Isa}{(Gemm.IsaNote is { } note ? $" ({note})" : "")}; " +
                         $"OpenBLAS core: {OpenBlas.CoreName ?? "unknown"} (OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "unset"})");
        output.WriteLine($"GEMM, row-major, {threads} thread(s) each, {Environment.ProcessorCount} logical CPUs");

        // Enough repeats for a stable median, bounded so the run stays short (2 warm-ups + repeats per library).
        if (repeats <= 0) repeats = size <= 1024 ? 9 : size <= 2048 ? 5 : 3;
        var cube = new Shape($"{size}³", size, size, size, false, false);

        output.WriteLine();
        // The roofline of the micro-kernel's vector width (float32; float64 peaks at half the GFLOP/s).
        var peak = new Dictionary<int, double>();
        double Peak(int t) => peak.TryGetValue(t, out double p) ? p : peak[t] = FmaPeak.ForIsa(Gemm.Isa, t);
        output.WriteLine($"float32 FMA peak ({(Gemm.Isa == GemmIsa.Avx512 ? "zmm" : "ymm")} registers, `peak`): {Peak(1):F0} GFLOP/s on 1 thread, {Peak(threads):F0} on {threads}");

        output.WriteLine();
        output.WriteLine("| product | precision | threads | BlurVae GFLOP/s | % of peak | OpenBLAS GFLOP/s | ours/OpenBLAS | max rel diff | BlurVae best | best % of peak |");
        output.WriteLine("|---------|-----------|--------:|----------------:|----------:|-----------------:|--------------:|-------------:|-------------:|---------------:|");
        void Measured<T>(Shape shape, string precision) where T : unmanaged
        {
            int t = shape.Threads > 0 ? shape.Threads : threads;
            OpenBlas.SetNumThreads(t);
            double p = Peak(t) * (typeof(T) == typeof(double) ? 0.5 : 1);
            Row(output, shape, precision, t, p, Measure<T>(shape, t, repeats));
        }
        Measured<float>(cube, "single");
        Measured<double>(cube, "double");
        foreach (var shape in ConvShapes) Measured<float>(shape, "single");
        foreach (var shape in StepShapes) Measured<float>(shape, "single");
        output.WriteLine();
        output.WriteLine($"(median of {repeats} interleaved runs after warm-up; % of peak against the FMA roofline of the same thread count; " +
                         "max rel diff = max|C_ours - C_openblas| / max|C_openblas|; best = the fastest run, what the code can do " +
                         "when no other work takes the core, the figure to compare on a shared machine)");
        return 0;
    }

    private const int SettleMilliseconds = 150;

    private readonly record struct Result(double OursGflops, double BlasGflops, double MaxRelDiff, double OursBestGflops);

    // The "| <size>³ | single |" row is what build.ps1 reads as the machine's SGEMM figure.
    private static void Row(TextWriter output, Shape shape, string precision, int threads, double peak, Result r) =>
        output.WriteLine($"| {shape.Name} | {precision,-9} | {threads,7} | {r.OursGflops,15:F1} | {r.OursGflops / peak,9:P0} | {r.BlasGflops,16:F1} | {r.OursGflops / r.BlasGflops,12:P0} | {r.MaxRelDiff,12:E1} | {r.OursBestGflops,12:F1} | {r.OursBestGflops / peak,14:P0} |");

    private static Result Measure<T>(Shape s, int threads, int repeats) where T : unmanaged
    {
        var rng = new Random(12345);
        var a = new T[(long)s.M * s.K];
        var b = new T[(long)s.K * s.N];
        var cOurs = new T[(long)s.M * s.N];
        var cBlas = new T[(long)s.M * s.N];
        for (long i = 0; i < a.LongLength; i++) a[i] = FromDouble<T>(rng.NextDouble() * 2 - 1);
        for (long i = 0; i < b.LongLength; i++) b[i] = FromDouble<T>(rng.NextDouble() * 2 - 1);

        void Ours() => Call(s, a, b, cOurs, threads, ours: true);
        void Blas() => Call(s, a, b, cBlas, threads, ours: false);

        for (int w = 0; w < 2; w++)
        {
            Ours();
            Blas();
        }
        double maxRel = MaxRelativeDifference(cOurs, cBlas);

        var oursTimes = new double[repeats];
        var blasTimes = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            // Alternate which library goes first so neither systematically benefits from the other's cache state.
            if ((r & 1) == 0)
            {
                oursTimes[r] = Time(Ours);
                blasTimes[r] = Time(Blas);
            }
            else
            {
                blasTimes[r] = Time(Blas);
                oursTimes[r] = Time(Ours);
            }
        }

        return new Result(s.Flops / Stats.Median(oursTimes) / 1e9, s.Flops / Stats.Median(blasTimes) / 1e9, maxRel, s.Flops / oursTimes.Min() / 1e9);
    }

    private static void Call<T>(Shape s, T[] a, T[] b, T[] c, int threads, bool ours) where T : unmanaged
    {
        // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k when transposed); leading dimensions are tight.
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        if (typeof(T) == typeof(float))
        {
            var fa = (float[])(object)a;
            var fb = (float[])(object)b;
            var fc = (float[])(object)c;
            if (ours) Gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, fa, lda, fb, ldb, 0f, fc, s.N, threads);
            else OpenBlas.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, fa, lda, fb, ldb, 0f, fc, s.N);
        }
        else
        {
            var da = (double[])(object)a;
            var db = (double[])(object)b;
            var dc = (double[])(object)c;
            if (ours) Gemm.Dgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1.0, da, lda, db, ldb, 0.0, dc, s.N, threads);
            else OpenBlas.Dgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1.0, da, lda, db, ldb, 0.0, dc, s.N);
        }
    }

    private static double Time(Action action)
    {
        // Steady-state timing, as in a network that calls GEMM back to back, without cross-talk between the two
        // libraries: OpenBLAS's pthread workers busy-wait for up to 2^28 TSC cycles (~0.1 s) after each call, which
        // on a machine with as many cores as threads would steal the CPU from whichever call runs next. So first let
        // every worker go idle, then make one untimed call to wake this library's own workers, then time one call.
        Thread.Sleep(SettleMilliseconds);
        action();
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double MaxRelativeDifference<T>(T[] x, T[] reference) where T : unmanaged
    {
        double maxDiff = 0, maxRef = 0;
        for (long i = 0; i < x.LongLength; i++)
        {
            double r = ToDouble(reference[i]);
            double d = Math.Abs(ToDouble(x[i]) - r);
            if (double.IsNaN(d)) return double.NaN;
            maxDiff = Math.Max(maxDiff, d);
            maxRef = Math.Max(maxRef, Math.Abs(r));
        }

        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    private static T FromDouble<T>(double v) where T : unmanaged =>
        typeof(T) == typeof(float) ? (T)(object)(float)v : (T)(object)v;

    private static double ToDouble<T>(T v) where T : unmanaged =>
        typeof(T) == typeof(float) ? (float)(object)v : (double)(object)v;
}
