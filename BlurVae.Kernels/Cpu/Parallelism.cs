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

    // Chunks a loop is cut into per thread. One chunk per thread makes the caller wait out a late helper's whole
    // share at the end of the loop (the ForkJoin.Work and spin time of the deep layers' short loops); a few per thread
    // let the caller take over what the helper has not claimed yet, at one interlocked claim per chunk.
    private const int ChunksPerThread = 4;
    private const int ItemRunsPerThread = 16;

    /// <summary>Calls body(start, end) over disjoint chunks covering [0, count), each at least grain long where count allows.</summary>
    public static void ForRange(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        int pieces = Math.Max(1, count / Math.Max(1, grain));
        int threads = Math.Min(MaxThreads, pieces);
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        new ForkJoin(threads, Math.Min(pieces, threads * ChunksPerThread), count, body, null).Run();
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
        // Items are claimed one at a time up to ItemRunsPerThread per thread (the uneven chunks of a conv balance
        // themselves), in runs beyond: thousands of tiny items (the 2×2 planes of a deep layer's col2im) do not
        // each cost an interlocked claim on a line both cores write.
        int threads = Math.Min(MaxThreads, count);
        new ForkJoin(threads, Math.Min(count, threads * ItemRunsPerThread), count, null, body).Run();
    }

    /// <summary>
    /// One parallel loop: <c>chunks</c> pieces of [0, count) (never empty: chunks ≤ count) claimed by whichever thread comes first. A helper that
    /// arrives after the last chunk was claimed leaves at once, so the object is never reused.
    /// </summary>
    private sealed class ForkJoin(int threads, int chunks, int count, Action<int, int>? range, Action<int>? item) : IThreadPoolWorkItem
    {
        private int _next = -1, _done;
        private Exception? _error;

        public void Run()
        {
            Interlocked.Increment(ref _regions);
            GemmHelpers.Start(this, threads - 1, poolFallback: false);
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != chunks) spin.SpinOnce(sleep1Threshold: -1);
            if (_error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
        }

        // Only the helpers run a loop's job, never the thread pool (poolFallback: false above): bodies run on whatever
        // thread takes them, and each thread grows its own scratch (GEMM panels, pooled arrays); on the changing pool
        // threads that was ~0.45 MB of fresh arrays per fashion32 backward-input call with 2 threads (none with 1),
        // ~0.9 MB per step. A helper that is busy simply leaves the caller more chunks.
        void IThreadPoolWorkItem.Execute() => Work();

        private void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < chunks)
            {
                try
                {
                    int start = (int)((long)count * i / chunks), end = (int)((long)count * (i + 1) / chunks);
                    if (item is null) range!(start, end);
                    else
                        for (int k = start; k < end; k++) item(k);
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
