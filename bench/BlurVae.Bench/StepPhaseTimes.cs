using System.Diagnostics;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Benchmarks;

namespace BlurVae.Bench;

/// <summary>
/// Where a CPU training step's time goes: the step of `blurvae bench` (OursRunner) with each phase timed through
/// Trainer.PhaseEnded — ELBO forward, ELBO backward, VAE Adam, the G_γ step — median, p10 and p90 per phase over
/// the steps, and per step the GC collections, GC pause time and managed bytes allocated (what makes steps uneven).
/// </summary>
public static class StepPhaseTimes
{
    public static int Run(string configName, int steps, TextWriter? output = null)
    {
        output ??= Console.Out;
        var config = BenchConfig.Select(configName)[0];
        var runner = new OursRunner(config, CpuBackend.Instance);
        var phases = new Dictionary<string, List<double>>();
        long mark = 0;
        runner.Trainer.PhaseEnded = name =>
        {
            long now = Stopwatch.GetTimestamp();
            if (!phases.TryGetValue(name, out var list)) phases[name] = list = [];
            list.Add(Stopwatch.GetElapsedTime(mark, now).TotalMilliseconds);
            mark = now;
        };
        for (int i = 0; i < 5; i++)
        {
            mark = Stopwatch.GetTimestamp();
            runner.Step();
        }
        phases.Clear();
        var total = new List<double>();
        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        var pause0 = GC.GetTotalPauseDuration();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: false), fresh0 = CpuBackend.FreshBufferBytes;
        long jitted0 = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jitTime0 = System.Runtime.JitInfo.GetCompilationTime();
        for (int i = 0; i < steps; i++)
        {
            mark = Stopwatch.GetTimestamp();
            long start = mark;
            runner.Step();
            total.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        output.WriteLine($"{config.Name}, CPU, {CpuBackend.Threads} threads, {steps} steps after 5 warm-up; GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}" +
                         $", latency mode {System.Runtime.GCSettings.LatencyMode}");
        output.WriteLine($"per step: gen0 GCs {(GC.CollectionCount(0) - gc0) / (double)steps:F2}, gen1 {(GC.CollectionCount(1) - gc1) / (double)steps:F2}, " +
                         $"gen2 {(GC.CollectionCount(2) - gc2) / (double)steps:F2}, GC pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / steps:F2} ms, " +
                         $"managed allocation {(GC.GetTotalAllocatedBytes(false) - alloc0) / steps / 1024.0:F0} KiB, " +
                         $"fresh (not recycled) buffer arrays {(CpuBackend.FreshBufferBytes - fresh0) / steps / 1048576.0:F2} MiB");
        output.WriteLine($"per step: methods JIT-compiled {(System.Runtime.JitInfo.GetCompiledMethodCount() - jitted0) / (double)steps:F1} " +
                         $"(tier-ups of tiered compilation), JIT time {(System.Runtime.JitInfo.GetCompilationTime() - jitTime0).TotalMilliseconds / steps:F2} ms");
        output.WriteLine("step ms in order: " + string.Join(" ", total.Select(t => t.ToString("F0"))));
        output.WriteLine();
        output.WriteLine("| phase | median ms | p10 ms | p90 ms | p90/p10 |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, list) in phases.Append(new("whole step", total)))
        {
            double median = Stats.Quantile(list, 0.5), p10 = Stats.Quantile(list, 0.1), p90 = Stats.Quantile(list, 0.9);
            output.WriteLine($"| {name} | {median:F1} | {p10:F1} | {p90:F1} | {p90 / p10:F2} |");
        }
        return 0;
    }
}
