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
    /// backward-input [Cin·9, Cout]ᵀ·[Cout, N·S] and backward-weight [Cout, N·S]·[Cin·9, N·S]ᵀ, and a deep 2×2 layer.</summary>
    private static readonly Shape[] ConvShapes =
    [
        new("conv 32→64 fwd (8×8 out)", 64, 4096, 288, false, false),
        new("conv 32→64 bwd-input", 288, 4096, 64, true, false),
        new("conv 32→64 bwd-weight", 64, 288, 4096, false, true),
        new("conv 128→256 fwd (2×2 out)", 256, 256, 1152, false, false),
    ];

    private readonly record struct Shape(string Name, int M, int N, int K, bool TransA, bool TransB)
    {
        public double Flops => 2.0 * M * N * K;
    }

    /// <summary>
    /// Runs the comparison and prints a table (GFLOP/s = 2·m·n·k / median seconds) to <paramref name="output"/>
    /// (Console.Out by default): size³ in both precisions, then the conv-shaped single-precision products.
    /// Returns 0, or 1 when OpenBLAS cannot be loaded.
    /// </summary>
    public static int Run(int size = 1024, int threads = 2, TextWriter? output = null)
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
        int repeats = size <= 1024 ? 9 : size <= 2048 ? 5 : 3;
        var cube = new Shape($"{size}³", size, size, size, false, false);

        output.WriteLine();
        output.WriteLine("| product | precision | BlurVae GFLOP/s | OpenBLAS GFLOP/s | ours/OpenBLAS | max rel diff |");
        output.WriteLine("|---------|-----------|----------------:|-----------------:|--------------:|-------------:|");
        Row(output, cube, "single", Measure<float>(cube, threads, repeats));
        Row(output, cube, "double", Measure<double>(cube, threads, repeats));
        foreach (var shape in ConvShapes) Row(output, shape, "single", Measure<float>(shape, threads, repeats));
        output.WriteLine();
        output.WriteLine($"(median of {repeats} interleaved runs after warm-up; max rel diff = max|C_ours - C_openblas| / max|C_openblas|)");
        return 0;
    }

    private const int SettleMilliseconds = 150;

    private readonly record struct Result(double OursGflops, double BlasGflops, double MaxRelDiff);

    // The "| <size>³ | single |" row is what build.ps1 reads as the machine's SGEMM figure.
    private static void Row(TextWriter output, Shape shape, string precision, Result r) =>
        output.WriteLine($"| {shape.Name} | {precision,-9} | {r.OursGflops,15:F1} | {r.BlasGflops,16:F1} | {r.OursGflops / r.BlasGflops,12:P0} | {r.MaxRelDiff,12:E1} |");

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

        return new Result(s.Flops / Stats.Median(oursTimes) / 1e9, s.Flops / Stats.Median(blasTimes) / 1e9, maxRel);
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
