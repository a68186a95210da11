namespace BlurVae.Tests.Cpu;

/// <summary>The CPU backend's results may not depend on its thread count: one run on 1 thread and one on 3.</summary>
internal static class ThreadCount
{
    /// <summary>Runs <paramref name="run"/> with 1 and with 3 CPU threads, restoring the setting, and returns both results.</summary>
    public static (T One, T Three) OneAndThree<T>(Func<T> run)
    {
        int saved = CpuBackend.Threads;
        try
        {
            CpuBackend.Threads = 1;
            var one = run();
            CpuBackend.Threads = 3;
            return (one, run());
        }
        finally
        {
            CpuBackend.Threads = saved;
        }
    }
}
