namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Splits index ranges over the cores. Below the grain size the loop runs inline: on a 2-core machine the
/// cost of waking a second thread (a few microseconds) exceeds the work of a small elementwise op.
/// <para>
/// A parallel loop is a fork-join on the GEMM's persistent helper threads (<see cref="GemmHelpers"/>), not on
/// Parallel.For: the helpers keep polling for about a millisecond after each job before they park, as an OpenMP
/// runtime's threads spin at the end of a parallel region, so the back-to-back loops of a training step find them
/// awake instead of waking a parked thread-pool worker per loop (0.1–2 ms under load); one set of threads serves
/// the loops and the GEMMs, so no third thread spins on two cores; a loop allocates one small job object instead of
/// Parallel.For's task replicas, queues and loop state (~100 KiB per fashion32 step, BlurVae.Bench phases); and the
/// loops stay on the same threads, whose per-thread scratch stays warm. The calling thread always works and claims
/// chunks dynamically, so a helper that is busy or late costs nothing but its share.
/// </para>
/// </summary>
internal static class Parallelism
{
    private static long _regions;

    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>Parallel loops that ran on more than one thread so far (BlurVae.Bench phases reports them per step).</summary>
    public static long Regions => Interlocked.Read(ref _regions);

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
        new ForkJoin(threads, threads, count, body, null).Run();
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
        // Items are claimed one at a time (uneven items, such as the planes of a conv, balance themselves).
        new ForkJoin(Math.Min(MaxThreads, count), count, count, null, body).Run();
    }

    /// <summary>
    /// One parallel loop: <c>chunks</c> pieces of [0, count) claimed by whichever thread comes first. A helper that
    /// arrives after the last chunk was claimed leaves at once, so the object is never reused.
    /// </summary>
    private sealed class ForkJoin(int threads, int chunks, int count, Action<int, int>? range, Action<int>? item) : IThreadPoolWorkItem
    {
        private int _next = -1, _done;
        private Exception? _error;

        public void Run()
        {
            Interlocked.Increment(ref _regions);
            GemmHelpers.Start(this, threads - 1);
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != chunks) spin.SpinOnce(sleep1Threshold: -1);
            if (_error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
        }

        // GemmHelpers hands a job to the thread pool when its helpers are busy (or still hold an earlier job they have not
        // started); a pool thread leaves a loop's job alone. Bodies run on whatever thread takes them, and each thread
        // grows its own scratch (GEMM panels, pooled arrays): on the changing pool threads that was ~0.45 MB of fresh
        // arrays per fashion32 backward-input call with 2 threads (none with 1), ~0.9 MB per step.
        void IThreadPoolWorkItem.Execute()
        {
            if (!Thread.CurrentThread.IsThreadPoolThread) Work();
        }

        private void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < chunks)
            {
                try
                {
                    if (item is not null) item(i);
                    else
                    {
                        int start = (int)((long)count * i / chunks), end = (int)((long)count * (i + 1) / chunks);
                        if (end > start) range!(start, end);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                }
                Interlocked.Increment(ref _done);
            }
        }
    }
}
