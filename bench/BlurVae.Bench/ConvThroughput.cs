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
        ("enc1 32px 1→64 k3 s2", 64, 1, 32, 64, 3, 2, 1),
        ("enc2 32px 64→128 k3 s2", 64, 64, 16, 128, 3, 2, 1),
        ("enc3 32px 128→256 k3 s2", 64, 128, 8, 256, 3, 2, 1),
        ("enc2 64px 64→128 k3 s2", 64, 64, 32, 128, 3, 2, 1),
        ("out 32px 64→1 k3 s1", 64, 64, 32, 1, 3, 1, 1),
    ];

    public static int Run(TextWriter? output = null)
    {
        output ??= Console.Out;
        var cpu = CpuBackend.Instance;
        output.WriteLine($"CPU convolutions, float32, {CpuBackend.Threads} threads (median of 7 after 2 warm-ups)");
        output.WriteLine();
        output.WriteLine("| layer (batch 64) | forward GFLOP/s | backward-input GFLOP/s | backward-weight GFLOP/s |");
        output.WriteLine("|---|---:|---:|---:|");
        var rng = new Random(1);
        foreach (var (name, n, cin, h, cout, k, stride, pad) in Layers)
        {
            var g = ConvGeometry.ForConv(n, cin, h, h, cout, k, k, stride, pad);
            var x = Tensor.Randn([n, cin, h, h], rng);
            var w = Tensor.Randn([cout, cin, k, k], rng);
            var y = Tensor.Randn([n, cout, g.OutH, g.OutW], rng);
            var dx = x.ZerosLike();
            var dw = w.ZerosLike();
            double flops = 2.0 * n * cout * g.OutH * g.OutW * cin * k * k;
            double fwd = flops / Median(() => cpu.Conv2dForward(y.Buffer, x.Buffer, w.Buffer, null, g)) / 1e9;
            double bwdIn = flops / Median(() => cpu.Conv2dBackwardInput(dx.Buffer, y.Buffer, w.Buffer, g)) / 1e9;
            double bwdW = flops / Median(() => cpu.Conv2dBackwardWeight(dw.Buffer, null, y.Buffer, x.Buffer, g)) / 1e9;
            output.WriteLine($"| {name} | {fwd:F1} | {bwdIn:F1} | {bwdW:F1} |");
        }
        return 0;
    }

    private static double Median(Action action)
    {
        action();
        action();
        var times = new double[7];
        for (int i = 0; i < times.Length; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        return Stats.Median(times);
    }
}
