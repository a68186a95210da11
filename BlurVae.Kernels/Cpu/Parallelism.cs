namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Splits index ranges over the cores. Below the grain size the loop runs inline: on a 2-core machine the
/// cost of waking a second thread (a few microseconds) exceeds the work of a small elementwise op.
/// </summary>
internal static class Parallelism
{
    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>Calls body(start, end) over disjoint chunks covering [0, count).</summary>
    public static void ForRange(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = Math.Min(MaxThreads, Math.Max(1, count / Math.Max(1, grain)));
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        int chunks = threads;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            long start = (long)count * i / chunks;
            long end = (long)count * (i + 1) / chunks;
            if (end > start) body((int)start, (int)end);
        });
    }

    /// <summary>Calls body(i) for each i in [0, count), in parallel when the total work (count·costPerItem) is large.</summary>
    public static void ForEach(int count, long costPerItem, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || MaxThreads <= 1 || count * costPerItem < 32_768)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxThreads }, body);
    }
}
