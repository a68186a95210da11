using System.Diagnostics;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Benchmarks;

namespace BlurVae.Bench;

/// <summary>
/// Where a CPU training step's time goes: the step of `blurvae bench` (OursRunner) with each phase timed through
/// Trainer.PhaseEnded — ELBO forward, ELBO backward, VAE Adam, the G_γ step — median, p10 and p90 per phase over
/// the steps with the managed bytes each allocates, and per step the GC collections and pause time, thread-pool work
/// items, the CPU backend's parallel loops, the threads' voluntary context switches (parks) and the JIT's work
/// (<see cref="StepCounters"/>: what makes steps uneven, counted independently of the machine's load).
/// </summary>
public static class StepPhaseTimes
{
    public static int Run(string configName, int steps, bool sampleAllocations = false, TextWriter? output = null)
    {
        output ??= Console.Out;
        var config = BenchConfig.Select(configName)[0];
        var runner = new OursRunner(config, CpuBackend.Instance);
        var phases = new Dictionary<string, List<double>>();
        var phaseBytes = new Dictionary<string, long>();
        long mark = 0, bytesMark = GC.GetTotalAllocatedBytes(precise: true);
        runner.Trainer.PhaseEnded = name =>
        {
            long now = Stopwatch.GetTimestamp();
            if (!phases.TryGetValue(name, out var list)) phases[name] = list = [];
            list.Add(Stopwatch.GetElapsedTime(mark, now).TotalMilliseconds);
            long bytes = GC.GetTotalAllocatedBytes(precise: true);
            phaseBytes[name] = phaseBytes.GetValueOrDefault(name) + bytes - bytesMark;
            bytesMark = bytes;
            mark = now;
        };
        for (int i = 0; i < 5; i++)
        {
            mark = Stopwatch.GetTimestamp();
            runner.Step();
        }
        phases.Clear();
        phaseBytes.Clear();
        var total = new List<double>();
        using var sampler = sampleAllocations ? new AllocationSampler() : null;
        sampler?.Start();
        var pause0 = GC.GetTotalPauseDuration();
        var counters0 = StepCounters.Read(contextSwitches: true);
        long jitted0 = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jitTime0 = System.Runtime.JitInfo.GetCompilationTime();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < steps; i++)
        {
            mark = Stopwatch.GetTimestamp();
            bytesMark = GC.GetTotalAllocatedBytes(precise: true);
            long start = mark;
            runner.Step();
            total.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        sampler?.Stop();
        var cpuPerStep = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / steps;
        output.WriteLine($"{config.Name}, CPU, {CpuBackend.Threads} threads, {steps} steps after 5 warm-up; GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}" +
                         $", latency mode {System.Runtime.GCSettings.LatencyMode}");
        var c = StepCounters.Read(contextSwitches: true).Since(counters0);
        output.WriteLine($"per step: gen0 GCs {c.Gen0 / (double)steps:F2}, gen1 {c.Gen1 / (double)steps:F2}, gen2 {c.Gen2 / (double)steps:F2}, " +
                         $"GC pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / steps:F2} ms, " +
                         $"managed allocation {c.AllocatedBytes / steps / 1024.0:F1} KiB, " +
                         $"fresh (not recycled) buffer arrays {c.FreshBufferBytes / steps / 1024.0:F1} KiB");
        output.WriteLine($"per step: parallel loops {c.ParallelLoops / (double)steps:F1}, thread-pool work items {c.ThreadPoolItems / (double)steps:F1}, " +
                         $"voluntary context switches (all threads) {(c.ContextSwitches is long v ? (v / (double)steps).ToString("F1") : "unknown")}");
        output.WriteLine($"per step: methods JIT-compiled {(System.Runtime.JitInfo.GetCompiledMethodCount() - jitted0) / (double)steps:F1} " +
                         $"(tier-ups of tiered compilation), JIT time {(System.Runtime.JitInfo.GetCompilationTime() - jitTime0).TotalMilliseconds / steps:F2} ms");
        if (sampler is not null)
            foreach (var (type, bytes) in sampler.Top(60))
                output.WriteLine(type.StartsWith("JIT ") ? $"  {bytes,5} × {type}" : $"  sampled {bytes / steps / 1024.0,8:F1} KiB/step  {type}");
        // On a machine shared with other work the wall time includes waiting for a core; with one thread
        // (DOTNET_PROCESSOR_COUNT=1) the CPU time is the step's work alone (spin-waits at fork-join ends count with more).
        output.WriteLine($"per step: process CPU time {cpuPerStep:F1} ms (all threads)");
        output.WriteLine("step ms in order: " + string.Join(" ", total.Select(t => t.ToString("F0"))));
        output.WriteLine();
        output.WriteLine("| phase | median ms | p10 ms | p90 ms | p90/p10 | managed KiB/step |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, list) in phases.Append(new("whole step", total)))
        {
            double median = Stats.Quantile(list, 0.5), p10 = Stats.Quantile(list, 0.1), p90 = Stats.Quantile(list, 0.9);
            double kib = (name == "whole step" ? c.AllocatedBytes : phaseBytes.GetValueOrDefault(name)) / (double)steps / 1024;
            output.WriteLine($"| {name} | {median:F1} | {p10:F1} | {p90:F1} | {p90 / p10:F2} | {kib:F1} |");
        }
        return 0;
    }
}
