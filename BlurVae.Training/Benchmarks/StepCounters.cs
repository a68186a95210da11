using BlurVae.Kernels.Cpu;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The process-wide counters that explain uneven step times, read before and after a stretch of steps: managed bytes
/// allocated (all threads), garbage collections by generation, thread-pool work items completed, the CPU backend's
/// parallel loops and the fresh (not recycled) large arrays it had to touch, and the threads' voluntary context
/// switches (a thread that parks and is woken again; Linux only). Unlike times they do not depend on the machine's
/// load, so a change that removes allocations or wake-ups shows in them on a busy machine too. GC counts are those of
/// <see cref="GC.CollectionCount"/>: a gen-2 collection counts for generations 1 and 0 as well.
/// </summary>
public readonly record struct StepCounters(
    long AllocatedBytes, int Gen0, int Gen1, int Gen2, long ThreadPoolItems, long ParallelLoops, long FreshBufferBytes, long? ContextSwitches)
{
    /// <summary>The counters now. <paramref name="contextSwitches"/> reads /proc for every thread (~0.1 ms): off in timed loops.</summary>
    public static StepCounters Read(bool contextSwitches = false) => new(
        GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
        ThreadPool.CompletedWorkItemCount, CpuBackend.ParallelLoops, CpuBackend.FreshBufferBytes,
        contextSwitches ? VoluntaryContextSwitches() : null);

    /// <summary>What happened between <paramref name="start"/> and this reading.</summary>
    public StepCounters Since(StepCounters start) => new(
        AllocatedBytes - start.AllocatedBytes, Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2,
        ThreadPoolItems - start.ThreadPoolItems, ParallelLoops - start.ParallelLoops, FreshBufferBytes - start.FreshBufferBytes,
        ContextSwitches - start.ContextSwitches);

    /// <summary>Both stretches together (the repeats of one measurement).</summary>
    public StepCounters Plus(StepCounters other) => new(
        AllocatedBytes + other.AllocatedBytes, Gen0 + other.Gen0, Gen1 + other.Gen1, Gen2 + other.Gen2,
        ThreadPoolItems + other.ThreadPoolItems, ParallelLoops + other.ParallelLoops, FreshBufferBytes + other.FreshBufferBytes,
        ContextSwitches + other.ContextSwitches);

    /// <summary>Sum of voluntary_ctxt_switches over the process's threads (/proc/self/task/*/status), or null off Linux.</summary>
    public static long? VoluntaryContextSwitches()
    {
        try
        {
            long total = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                            total += long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim());
                }
                catch (IOException)
                {
                    // The thread ended while we listed it.
                }
            }
            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
