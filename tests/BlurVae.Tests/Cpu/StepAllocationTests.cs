using BlurVae.Training.Benchmarks;

namespace BlurVae.Tests.Cpu;

/// <summary>
/// The steady-state CPU training step leaves the garbage collector idle: after a warm-up, the alternating step of
/// `blurvae bench` (fashion32's graph — 32×32 input, four stride-2 layers down to 2×2 and back, G_γ, the Wiener loss —
/// at a small batch and width) allocates under a fixed ceiling of managed bytes per step, all threads counted, and
/// runs no gen-2 collection. Allocation counts do not depend on the machine's load, so this holds on a busy CI box.
/// Before the CPU loops left Parallel.For and buffers under 16K elements were recycled too, this step allocated ~2 MiB
/// (its activations were all below the recycler's old threshold); then ~140 KiB; ~83 KiB since the backward pass keeps
/// its collections, builds no message strings and no closure per node, and Adam refills its group lists.
/// </summary>
[TestFixture, Category("Cpu"), NonParallelizable]
public class StepAllocationTests
{
    // The graph's own objects (tensors, autograd nodes, shape arrays, closures: ~200 ops) take ~80 KiB.
    private const long CeilingBytesPerStep = 128 * 1024;

    private static readonly BenchConfig Small = new("fashion32-small", 8, 1, 32, [8, 16, 16, 32], 8, 11, MlpHidden: 32);

    [Test]
    public void SteadyStateStepAllocatesUnderTheCeilingAndRunsNoGen2Collection()
    {
        int saved = CpuBackend.Threads;
        try
        {
            CpuBackend.Threads = 2;
            var runner = new OursRunner(Small, CpuBackend.Instance);
            for (int i = 0; i < 6; i++) runner.Step();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            for (int i = 0; i < 2; i++) runner.Step();

            const int steps = 10;
            var start = StepCounters.Read();
            for (int i = 0; i < steps; i++) runner.Step();
            var used = StepCounters.Read().Since(start);

            TestContext.Out.WriteLine($"per step: {used.AllocatedBytes / steps / 1024.0:F1} KiB, GCs {used.Gen0}/{used.Gen1}/{used.Gen2} in {steps} steps, " +
                                      $"fresh buffer bytes {used.FreshBufferBytes}, parallel loops {used.ParallelLoops / steps}");
            Assert.Multiple(() =>
            {
                Assert.That(used.AllocatedBytes / steps, Is.LessThan(CeilingBytesPerStep), "managed bytes per steady-state step");
                Assert.That(used.Gen2, Is.Zero, "gen-2 collections during steady-state steps");
                Assert.That(used.FreshBufferBytes, Is.Zero, "buffer arrays the recycler had to take fresh");
            });
        }
        finally
        {
            CpuBackend.Threads = saved;
        }
    }
}
