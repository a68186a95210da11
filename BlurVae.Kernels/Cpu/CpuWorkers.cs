using System.Diagnostics;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// The persistent worker threads of <see cref="Parallelism"/>'s loops. After a job a worker keeps polling for the
/// next one for about a millisecond (yielding its core to any other runnable thread) before it parks, as an OpenMP
/// runtime's threads spin at the end of a parallel region (KMP_BLOCKTIME, GOMP_SPINCOUNT): the back-to-back loops of
/// a training step find it awake instead of paying a wake-up each (0.1–2 ms on a loaded VM).
/// <para>
/// Unlike <see cref="GemmHelpers"/> there is no thread-pool fallback: a loop whose worker is busy runs on fewer threads
/// (the caller claims chunks dynamically, so it loses nothing but the missing share). The fallback put the work of a
/// step on whichever pool threads were free, each growing its own per-thread scratch (GEMM panels, pooled arrays) —
/// measured as ~0.4 MB of fresh managed arrays per fashion32 step with 2 threads, none with 1 (BlurVae.Bench phases).
/// And a job a worker has not picked up yet is taken back when the loop ends (<see cref="Retract"/>), so a worker that
/// was slow to get a core is free for the next loop at once.
/// </para>
/// </summary>
internal static class CpuWorkers
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;
    private static readonly object Gate = new();
    private static Worker[] s_workers = [];

    /// <summary>Posts <paramref name="job"/> to up to <paramref name="count"/> idle workers; returns which (bit i = worker i) for <see cref="Retract"/>.</summary>
    public static ulong Post(IThreadPoolWorkItem job, int count)
    {
        count = Math.Min(count, 64);
        Worker[] workers = Volatile.Read(ref s_workers);
        if (workers.Length < count) workers = Grow(count);
        ulong posted = 0;
        for (int i = 0, started = 0; i < workers.Length && started < count; i++)
            if (workers[i].TryPost(job))
            {
                posted |= 1UL << i;
                started++;
            }
        return posted;
    }

    /// <summary>Takes the job back from the workers of <paramref name="posted"/> that have not started it (it is finished; they would only look).</summary>
    public static void Retract(IThreadPoolWorkItem job, ulong posted)
    {
        Worker[] workers = Volatile.Read(ref s_workers);
        for (int i = 0; posted != 0; i++, posted >>= 1)
            if ((posted & 1) != 0) workers[i].Retract(job);
    }

    private static Worker[] Grow(int count)
    {
        lock (Gate)
        {
            Worker[] workers = s_workers;
            if (workers.Length >= count) return workers;
            var grown = new Worker[count];
            Array.Copy(workers, grown, workers.Length);
            for (int i = workers.Length; i < count; i++) grown[i] = new Worker(i);
            Volatile.Write(ref s_workers, grown);
            return grown;
        }
    }

    private sealed class Worker
    {
        // The sentinel in _job while the worker runs a job: neither postable nor retractable.
        private static readonly IThreadPoolWorkItem Running = new Nothing();
        private readonly SemaphoreSlim _wake = new(0);
        private IThreadPoolWorkItem? _job;
        private int _sleeping;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"BlurVae CPU worker {index}" };
            thread.Start();
        }

        public bool TryPost(IThreadPoolWorkItem job)
        {
            if (Interlocked.CompareExchange(ref _job, job, null) != null) return false;
            // Full fence (the CAS) before reading _sleeping; the worker fences between setting _sleeping and
            // re-reading _job, so at least one side sees the other and the wake-up cannot be lost.
            if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
            return true;
        }

        public void Retract(IThreadPoolWorkItem job) => Interlocked.CompareExchange(ref _job, null, job);

        private void Loop()
        {
            long lastWork = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (true)
            {
                IThreadPoolWorkItem? job = Volatile.Read(ref _job);
                if (job is not null && job != Running && Interlocked.CompareExchange(ref _job, Running, job) == job)
                {
                    job.Execute();
                    Volatile.Write(ref _job, null);
                    lastWork = Stopwatch.GetTimestamp();
                    spin.Reset();
                    continue;
                }

                if (Stopwatch.GetTimestamp() - lastWork < SpinTicks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _job) is null) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                lastWork = Stopwatch.GetTimestamp();
                spin.Reset();
            }
        }
    }

    private sealed class Nothing : IThreadPoolWorkItem
    {
        public void Execute()
        {
        }
    }
}
