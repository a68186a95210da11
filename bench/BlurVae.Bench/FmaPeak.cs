// FmaPeak.cs - the machine's float32 FMA roofline: register-only fused multiply-add loops (no memory traffic) on
// zmm and ymm registers, on one thread and on every thread at once, so a GEMM's GFLOP/s can be read as "% of peak".

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Bench;

/// <summary>Peak float32 FMA throughput of this machine per vector width and thread count.</summary>
public static class FmaPeak
{
    /// <summary>Independent accumulator chains per loop: more than FMA latency (4 cycles) x pipes (2), so the loop is
    /// bound by the FMA ports and not by the dependency chains; 12 + 2 operands fit even in 16 ymm registers.</summary>
    private const int Chains = 12;

    /// <summary>Loop trips per timed call: 12 chains x 2^20 trips = 12.6 M FMAs, a few milliseconds.</summary>
    private const int Trips = 1 << 20;

    /// <summary>Prints the roofline table: zmm (when the CPU has AVX-512) and ymm, 1 thread and all threads.</summary>
    public static int Run(TextWriter? output = null)
    {
        output ??= Console.Out;
        int all = Environment.ProcessorCount;
        output.WriteLine($"float32 FMA peak, register-only loops ({Chains} independent accumulators), {all} logical CPUs; GEMM micro-kernel: {Gemm.Isa}");
        output.WriteLine();
        output.WriteLine("| registers | threads | GFLOP/s | per thread |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (int width in new[] { 512, 256 })
        {
            if (!Supports(width)) continue;
            foreach (int threads in all > 1 ? new[] { 1, all } : new[] { 1 })
            {
                double g = Measure(width, threads);
                output.WriteLine($"| {(width == 512 ? "zmm (AVX-512)" : "ymm (AVX2+FMA)")} | {threads} | {g:F1} | {g / threads:F1} |");
            }
        }
        return 0;
    }

    /// <summary>The peak a GEMM on <paramref name="isa"/>'s micro-kernel can reach with <paramref name="threads"/> threads
    /// (NaN for the scalar kernel, which has no vector roofline here).</summary>
    public static double ForIsa(GemmIsa isa, int threads) => isa switch
    {
        GemmIsa.Avx512 => Measure(512, threads),
        GemmIsa.Avx2 => Measure(256, threads),
        _ => double.NaN,
    };

    private static bool Supports(int width) => width == 512 ? Avx512F.IsSupported : Fma.IsSupported && Avx.IsSupported;

    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running the FMA loop on <paramref name="width"/>-bit
    /// registers at the same time: the best of five rounds (the machine may be shared; the peak is what it can do).</summary>
    public static double Measure(int width, int threads)
    {
        if (!Supports(width)) return double.NaN;
        double best = 0;
        for (int round = 0; round < 5; round++)
        {
            using var start = new Barrier(threads + 1);
            var seconds = new double[threads];
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() =>
                {
                    Loop(width, 1000); // warm-up: JIT, and the AVX-512 frequency licence
                    start.SignalAndWait();
                    long t0 = Stopwatch.GetTimestamp();
                    Loop(width, Trips);
                    seconds[id] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }) { IsBackground = true };
                workers[t].Start();
            }
            start.SignalAndWait();
            foreach (var w in workers) w.Join();
            // Every thread does the same work, so the slowest one bounds the combined rate.
            double flops = 2.0 * Chains * Trips * (width / 32) * threads;
            best = Math.Max(best, flops / seconds.Max() / 1e9);
        }
        return best;
    }

    private static float Loop(int width, int trips) => width == 512 ? Loop<Vector512<float>, Zmm>(trips) : Loop<Vector256<float>, Ymm>(trips);

    /// <summary>12 independent FMA chains on one register width, no memory operand in the loop.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop<TV, TOps>(int trips) where TV : struct where TOps : struct, IFma<TV>
    {
        var x = TOps.Create(0.999999f);
        var y = TOps.Create(1e-7f);
        TV c0 = x, c1 = x, c2 = x, c3 = x, c4 = x, c5 = x, c6 = x, c7 = x, c8 = x, c9 = x, c10 = x, c11 = x;
        for (int i = 0; i < trips; i++)
        {
            c0 = TOps.Fma(c0, x, y); c1 = TOps.Fma(c1, x, y); c2 = TOps.Fma(c2, x, y); c3 = TOps.Fma(c3, x, y);
            c4 = TOps.Fma(c4, x, y); c5 = TOps.Fma(c5, x, y); c6 = TOps.Fma(c6, x, y); c7 = TOps.Fma(c7, x, y);
            c8 = TOps.Fma(c8, x, y); c9 = TOps.Fma(c9, x, y); c10 = TOps.Fma(c10, x, y); c11 = TOps.Fma(c11, x, y);
        }
        // The sum keeps every chain live (nothing is dead code).
        TV s = TOps.Add(TOps.Add(TOps.Add(c0, c1), TOps.Add(c2, c3)), TOps.Add(TOps.Add(c4, c5), TOps.Add(c6, c7)));
        return TOps.Sum(TOps.Add(s, TOps.Add(TOps.Add(c8, c9), TOps.Add(c10, c11))));
    }

    /// <summary>The few operations of one register width the loop needs (inlined: the JIT specialises per struct).</summary>
    private interface IFma<TV> where TV : struct
    {
        static abstract TV Create(float x);
        static abstract TV Fma(TV a, TV b, TV c);
        static abstract TV Add(TV a, TV b);
        static abstract float Sum(TV v);
    }

    private readonly struct Zmm : IFma<Vector512<float>>
    {
        public static Vector512<float> Create(float x) => Vector512.Create(x);
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    }

    private readonly struct Ymm : IFma<Vector256<float>>
    {
        public static Vector256<float> Create(float x) => Vector256.Create(x);
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    }
}
