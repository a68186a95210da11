using System.Diagnostics;
using BlurVae.Kernels;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Benchmarks;
using BlurVae.Training.Engine.Tensors;

namespace BlurVae.Bench;

/// <summary>
/// Effective GFLOP/s (2·N·Cout·OH·OW·Cin·k² per pass) of the CPU convolutions (im2col + one batched GEMM) at the
/// layer shapes of architecture A on 32×32 and 64×64 inputs, forward and both backward passes.
/// </summary>
public static class ConvThroughput
{
    private static readonly (string Name, int N, int Cin, int H, int Cout, int K, int Stride, int Pad)[] Layers =
    [
        ("enc1 fashion32 1→32 32→16 k3 s2", 64, 1, 32, 32, 3, 2, 1),
        ("enc2 fashion32 32→64 16→8 k3 s2", 64, 32, 16, 64, 3, 2, 1),
        ("enc3 fashion32 64→128 8→4 k3 s2", 64, 64, 8, 128, 3, 2, 1),
        ("enc4 fashion32 128→256 4→2 k3 s2", 64, 128, 4, 256, 3, 2, 1),
        ("out fashion32 32→1 32² k3 s1", 64, 32, 32, 1, 3, 1, 1),
        ("enc1 32px 1→64 k3 s2", 64, 1, 32, 64, 3, 2, 1),
        ("enc2 32px 64→128 k3 s2", 64, 64, 16, 128, 3, 2, 1),
        ("enc3 32px 128→256 k3 s2", 64, 128, 8, 256, 3, 2, 1),
        ("enc2 64px 64→128 k3 s2", 64, 64, 32, 128, 3, 2, 1),
        ("out 32px 64→1 k3 s1", 64, 64, 32, 1, 3, 1, 1),
        ("out celeba64 64→3 64² k3 s1", 64, 64, 64, 3, 3, 1, 1),
    ];

    /// <summary>
    /// Times every layer, or only those whose name contains <paramref name="only"/> (then without the phase comparison).
    /// <paramref name="cpuTime"/>: on one thread, by the process's CPU time, which on a machine shared with other work
    /// leaves out the time spent waiting for a core (the wall time does not).
    /// </summary>
    public static int Run(TextWriter? output = null, string? only = null, bool cpuTime = false)
    {
        output ??= Console.Out;
        var cpu = CpuBackend.Instance;
        int savedThreads = CpuBackend.Threads;
        if (cpuTime) CpuBackend.Threads = 1;
        s_cpuTime = cpuTime;
        try
        {
            return Run(output, only, cpu);
        }
        finally
        {
            CpuBackend.Threads = savedThreads;
        }
    }

    private static bool s_cpuTime;

    private static int Run(TextWriter output, string? only, CpuBackend cpu)
    {
        output.WriteLine($"CPU convolutions, float32, {CpuBackend.Threads} threads (median of 7 after 2 warm-ups{(s_cpuTime ? ", CPU time" : "")})");
        output.WriteLine();
        output.WriteLine("| layer (batch 64) | forward GFLOP/s (ms) | backward-input GFLOP/s (ms) | backward-weight GFLOP/s (ms) |");
        output.WriteLine("|---|---:|---:|---:|");
        var rng = new Random(1);
        foreach (var (name, n, cin, h, cout, k, stride, pad) in Layers)
        {
            if (only is not null && !name.Contains(only, StringComparison.Ordinal)) continue;
            var g = ConvGeometry.ForConv(n, cin, h, h, cout, k, k, stride, pad);
            var x = Tensor.Randn([n, cin, h, h], rng);
            var w = Tensor.Randn([cout, cin, k, k], rng);
            var y = Tensor.Randn([n, cout, g.OutH, g.OutW], rng);
            var dx = x.ZerosLike();
            var dw = w.ZerosLike();
            double flops = 2.0 * n * cout * g.OutH * g.OutW * cin * k * k;
            double fwd = Median(() => cpu.Conv2dForward(y.Buffer, x.Buffer, w.Buffer, null, g));
            double bwdIn = Median(() => cpu.Conv2dBackwardInput(dx.Buffer, y.Buffer, w.Buffer, g));
            double bwdW = Median(() => cpu.Conv2dBackwardWeight(dw.Buffer, null, y.Buffer, x.Buffer, g));
            string Cell(double seconds) => $"{flops / seconds / 1e9:F1} ({seconds * 1e3:F2})";
            output.WriteLine($"| {name} | {Cell(fwd)} | {Cell(bwdIn)} | {Cell(bwdW)} |");
        }
        if (only is null) ComparePhases(output, rng);
        return 0;
    }

    // The stride-2 input gradients of architecture A: the encoder's backward inputs and the decoder's transposed
    // convolutions' forward passes (their own input gradients are plain stride-2 convolutions).
    private static readonly (string Name, ConvGeometry G)[] StridedInputGradients =
    [
        ("enc2 fashion32 32→64 16→8 k3 s2 (backward input)", ConvGeometry.ForConv(64, 32, 16, 16, 64, 3, 3, 2, 1)),
        ("enc3 fashion32 64→128 8→4 k3 s2 (backward input)", ConvGeometry.ForConv(64, 64, 8, 8, 128, 3, 3, 2, 1)),
        ("enc4 fashion32 128→256 4→2 k3 s2 (backward input)", ConvGeometry.ForConv(64, 128, 4, 4, 256, 3, 3, 2, 1)),
        ("enc2 celeba64 64→128 32→16 k3 s2 (backward input)", ConvGeometry.ForConv(64, 64, 32, 32, 128, 3, 3, 2, 1)),
        ("enc3 celeba64 128→256 16→8 k3 s2 (backward input)", ConvGeometry.ForConv(64, 128, 16, 16, 256, 3, 3, 2, 1)),
        ("enc4 celeba64 256→512 8→4 k3 s2 (backward input)", ConvGeometry.ForConv(64, 256, 8, 8, 512, 3, 3, 2, 1)),
        ("dec1 fashion32 256→128 2→4 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 256, 2, 2, 128, 4, 4, 2, 1, 0)),
        ("dec2 fashion32 128→64 4→8 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 128, 4, 4, 64, 4, 4, 2, 1, 0)),
        ("dec3 fashion32 64→32 8→16 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 64, 8, 8, 32, 4, 4, 2, 1, 0)),
        ("dec4 fashion32 32→32 16→32 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 32, 16, 16, 32, 4, 4, 2, 1, 0)),
        ("dec3 celeba64 128→64 16→32 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 128, 16, 16, 64, 4, 4, 2, 1, 0)),
        ("dec4 celeba64 64→64 32→64 k4 s2 (transposed forward)", ConvGeometry.ForTransposed(64, 64, 32, 32, 64, 4, 4, 2, 1, 0)),
    ];

    /// <summary>
    /// Stride-2 input gradients (= transposed convolutions) by per-phase GEMMs against GEMM + col2im (the col2im summing
    /// by phases, Auto's choice for every shape), interleaved in one run (CpuBackend.StridedInputGradient switches
    /// between them). col2im / phases &lt; 1: col2im is faster.
    /// </summary>
    private static void ComparePhases(TextWriter output, Random rng)
    {
        var cpu = CpuBackend.Instance;
        output.WriteLine();
        output.WriteLine("| stride-2 input gradient (batch 64) | phase GEMMs ms | GEMM + col2im ms | col2im / phases |");
        output.WriteLine("|---|---:|---:|---:|");
        var saved = CpuBackend.StridedInputGradient;
        try
        {
            foreach (var (name, g) in StridedInputGradients)
            {
                var w = Tensor.Randn([g.OutChannels, g.InChannels, g.KernelH, g.KernelW], rng);
                var dy = Tensor.Randn([g.N, g.OutChannels, g.OutH, g.OutW], rng);
                var dx = Tensor.Zeros([g.N, g.InChannels, g.InH, g.InW]);
                double Time(bool phases)
                {
                    CpuBackend.StridedInputGradient = phases ? StridedInputGradientPath.Phases : StridedInputGradientPath.Col2Im;
                    return Median(() => cpu.Conv2dBackwardInput(dx.Buffer, dy.Buffer, w.Buffer, g));
                }
                double a = Time(true), b = Time(false), a2 = Time(true), b2 = Time(false);
                double phased = Math.Min(a, a2), col2im = Math.Min(b, b2);
                output.WriteLine($"| {name} | {phased * 1e3:F2} | {col2im * 1e3:F2} | {col2im / phased:F2} |");
            }
        }
        finally
        {
            CpuBackend.StridedInputGradient = saved;
        }
    }

    private static double Median(Action action)
    {
        action();
        action();
        var times = new double[7];
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < times.Length; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalSeconds;
            if (s_cpuTime)
            {
                process.Refresh();
                times[i] = (process.TotalProcessorTime - cpu0).TotalSeconds;
            }
        }
        return Stats.Median(times);
    }
}
