using System.Runtime.ExceptionServices;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Splits index ranges over the cores. Below the grain size the loop runs inline: on a 2-core machine the
/// cost of waking a second thread (a few microseconds) exceeds the work of a small elementwise op.
/// The loops run on the GEMM's helper threads (<see cref="GemmHelpers"/>), not on the .NET thread pool, so the
/// backend has one pool: with <see cref="MaxThreads"/> = T at most T threads compute at any time (the caller and
/// T − 1 helpers), a helper that just finished a GEMM is still awake for the next loop instead of a pool thread
/// having to be woken (0.1–2 ms when it has gone to sleep), and no pool thread spins beside a spinning GEMM helper.
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
        Run(chunks, 1, threads, i =>
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
        int threads = Math.Min(MaxThreads, count);
        // Items are claimed in batches (about eight per thread) so cheap items do not all pay for an atomic.
        Run(count, Math.Max(1, count / (8 * threads)), threads, body);
    }

    /// <summary>The caller and up to threads − 1 helpers claim batches of items until all are done.</summary>
    private static void Run(int count, int batch, int threads, Action<int> body)
    {
        var job = new LoopJob(count, batch, body);
        GemmHelpers.Start(job, threads - 1);
        job.Work();
        job.WaitAndRethrow();
    }

    private sealed class LoopJob(int count, int batch, Action<int> body) : IThreadPoolWorkItem
    {
        private int _next, _done;
        private ExceptionDispatchInfo? _error;

        void IThreadPoolWorkItem.Execute() => Work();

        /// <summary>Claims and runs batches until none is left; a helper that arrives late finds none and leaves.</summary>
        public void Work()
        {
            while (true)
            {
                int start = Interlocked.Add(ref _next, batch) - batch;
                if (start >= count) return;
                int end = Math.Min(count, start + batch);
                try
                {
                    for (int i = start; i < end; i++) body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
                }
                finally
                {
                    Interlocked.Add(ref _done, end - start);
                }
            }
        }

        /// <summary>Returns once every item has run (items claimed by helpers included); rethrows the first failure.</summary>
        public void WaitAndRethrow()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
            _error?.Throw();
        }
    }
}
