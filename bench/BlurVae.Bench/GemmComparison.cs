// GemmComparison.cs - times BlurVae's managed Gemm against OpenBLAS at size^3 (single and double precision),
// with the same thread count for both, and cross-checks the two results.

using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Bench;

/// <summary>Side-by-side GEMM throughput of <see cref="Gemm"/> and OpenBLAS.</summary>
public static class GemmComparison
{
    /// <summary>
    /// Runs the comparison and prints a table (GFLOP/s = 2*n^3 / median seconds) to <paramref name="output"/>
    /// (Console.Out by default). Returns 0, or 1 when OpenBLAS cannot be loaded.
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
        output.WriteLine($"GEMM {size}x{size}x{size}, row-major, no transposes, {threads} thread(s) each, " +
                         $"{Environment.ProcessorCount} logical CPUs");

        // Enough repeats for a stable median, bounded so the run stays short (2 warm-ups + repeats per library).
        int repeats = size <= 1024 ? 9 : size <= 2048 ? 5 : 3;
        var single = Measure<float>(size, threads, repeats);
        var dbl = Measure<double>(size, threads, repeats);

        output.WriteLine();
        output.WriteLine("| precision | BlurVae GFLOP/s | OpenBLAS GFLOP/s | ours/OpenBLAS | max rel diff |");
        output.WriteLine("|-----------|----------------:|-----------------:|--------------:|-------------:|");
        Row(output, "single", single);
        Row(output, "double", dbl);
        output.WriteLine();
        output.WriteLine($"(median of {repeats} interleaved runs after warm-up; max rel diff = max|C_ours - C_openblas| / max|C_openblas|)");
        return 0;
    }

    private const int SettleMilliseconds = 150;

    private readonly record struct Result(double OursGflops, double BlasGflops, double MaxRelDiff);

    private static void Row(TextWriter output, string name, Result r) =>
        output.WriteLine($"| {name,-9} | {r.OursGflops,15:F1} | {r.BlasGflops,16:F1} | {r.OursGflops / r.BlasGflops,12:P0} | {r.MaxRelDiff,12:E1} |");

    private static Result Measure<T>(int size, int threads, int repeats) where T : unmanaged
    {
        int n = size;
        long count = (long)n * n;
        var rng = new Random(12345);
        var a = new T[count];
        var b = new T[count];
        var cOurs = new T[count];
        var cBlas = new T[count];
        for (long i = 0; i < count; i++)
        {
            a[i] = FromDouble<T>(rng.NextDouble() * 2 - 1);
            b[i] = FromDouble<T>(rng.NextDouble() * 2 - 1);
        }

        void Ours() => Call(a, b, cOurs, n, threads, ours: true);
        void Blas() => Call(a, b, cBlas, n, threads, ours: false);

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

        double flops = 2.0 * n * n * n;
        return new Result(flops / Median(oursTimes) / 1e9, flops / Median(blasTimes) / 1e9, maxRel);
    }

    private static void Call<T>(T[] a, T[] b, T[] c, int n, int threads, bool ours) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            var fa = (float[])(object)a;
            var fb = (float[])(object)b;
            var fc = (float[])(object)c;
            if (ours) Gemm.Sgemm(false, false, n, n, n, 1f, fa, n, fb, n, 0f, fc, n, threads);
            else OpenBlas.Sgemm(false, false, n, n, n, 1f, fa, n, fb, n, 0f, fc, n);
        }
        else
        {
            var da = (double[])(object)a;
            var db = (double[])(object)b;
            var dc = (double[])(object)c;
            if (ours) Gemm.Dgemm(false, false, n, n, n, 1.0, da, n, db, n, 0.0, dc, n, threads);
            else OpenBlas.Dgemm(false, false, n, n, n, 1.0, da, n, db, n, 0.0, dc, n);
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

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
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
