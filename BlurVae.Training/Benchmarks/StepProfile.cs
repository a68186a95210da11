using System.Diagnostics;
using BlurVae.Kernels;
using BlurVae.Kernels.Device;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Counts the structure of a training step without a GPU (`blurvae profile`): the step runs on a
/// <see cref="RecordingDevice"/>, which checks every launch as the real launchers make it and counts it but computes
/// nothing, for some warm-up steps, then for measured steps whose counts (<see cref="DeviceCounts"/>) and stream
/// operations (<see cref="StreamRecord"/>) are kept one step at a time.
/// <para>
/// No garbage collection is forced between steps: the autograd returns a step's buffers to the caching allocator
/// deterministically (Engine/Autograd/README.md), so the allocation count is what a GPU run would see.
/// </para>
/// </summary>
public static class StepProfile
{
    /// <summary>
    /// The structure of <paramref name="config"/>'s full alternating step, aimed at <paramref name="gpu"/>, with the
    /// convolutions at <paramref name="precision"/> (tf32 by default, as `train` and `bench` run on a GPU): each
    /// operation enqueued eagerly, or (<paramref name="cudaGraph"/>) the step replayed as a captured graph once warmed
    /// up, which shows as one graph launch (give it at least 3 warm-up steps: 2 eager, then the capture).
    /// </summary>
    public static ProfileReport Run(BenchConfig config, GpuSpec gpu, int warmup, int steps, int seed = 1, MathPrecision precision = MathPrecision.Tf32, bool cudaGraph = false)
    {
        var device = new RecordingDevice(gpu) { Precision = precision };
        var runner = new OursRunner(config, new RecordingBackend(device), seed, cudaGraph);
        return Measure(device, runner.Step, warmup, steps, config.Name, config.Describe());
    }

    /// <summary>Runs <paramref name="step"/> <paramref name="warmup"/> times uncounted, then <paramref name="steps"/> times counted.</summary>
    public static ProfileReport Measure(RecordingDevice device, Action step, int warmup, int steps, string name, string description)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        for (int i = 0; i < warmup; i++)
        {
            Settle(device);
            step();
        }
        var measured = new List<ProfiledStep>(steps);
        for (int i = 0; i < steps; i++)
        {
            Settle(device);
            var before = device.Counts;
            int first = device.RecordCount;
            long start = Stopwatch.GetTimestamp();
            step();
            double hostMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            measured.Add(new ProfiledStep(device.Counts.Minus(before), device.RecordsSince(first), hostMs));
        }
        return new ProfileReport(name, description, device.Target, warmup, measured, device.Precision);
    }

    // Frees a device's deferred releases (a GPU queues frees from finalizer threads); no collection is forced.
    private static void Settle(GpuDevice device)
    {
        device.ReleaseDeferred();
    }
}

/// <summary>One measured step: its counts, its stream operations in order, and how long the recording took on the host.</summary>
public sealed record ProfiledStep(DeviceCounts Counts, IReadOnlyList<StreamRecord> Records, double HostMs);
