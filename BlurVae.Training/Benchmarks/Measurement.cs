namespace BlurVae.Training.Benchmarks;

/// <summary>
/// One engine's timings of one part: the time of every timed step (after the warm-up steps of each repeat), each
/// repeat's mean, and the peak working set of the timed steps, or the reason it could not run. Never filled with
/// made-up numbers: an unavailable engine has no timings. The summary is steady-state: median, p10 and p90 over
/// all timed steps of all repeats.
/// </summary>
public sealed record Measurement(string Engine, string Device, int Threads)
{
    public bool Available => Reason is null;
    /// <summary>Why the engine did not run (missing python3, torch or bench.py, a failed run), or null.</summary>
    public string? Reason { get; init; }
    public string? DeviceName { get; init; }
    public string? Version { get; init; }
    public bool Compiled { get; init; }
    /// <summary>ms/step of each repeat.</summary>
    public List<double> RepeatMs { get; init; } = [];
    /// <summary>Every timed step of every repeat, in order.</summary>
    public List<double> StepMs { get; init; } = [];
    /// <summary>The largest resident set (MiB) any repeat reached during its timed steps, or null when unknown.</summary>
    public double? PeakWorkingSetMib { get; set; }
    /// <summary>Allocation, GC and threading counters summed over the timed steps (ours only; null for PyTorch).</summary>
    public StepCounters? Counters { get; private set; }
    /// <summary>The timed steps <see cref="Counters"/> covers.</summary>
    public int CountedSteps { get; private set; }

    /// <summary>A counter per timed step (null when not counted).</summary>
    public double? PerStep(Func<StepCounters, long?> counter) =>
        Counters is { } c && CountedSteps > 0 && counter(c) is long v ? v / (double)CountedSteps : null;

    /// <summary>The exact command of one repeat.</summary>
    public string? Command { get; init; }

    public static Measurement Unavailable(string engine, string device, int threads, string reason, string? command = null) =>
        new(engine, device, threads) { Reason = reason, Command = command };

    /// <summary>Median ms over all timed steps.</summary>
    public double Median => Stats.Quantile(StepMs, 0.5);
    public double P10 => Stats.Quantile(StepMs, 0.1);
    public double P90 => Stats.Quantile(StepMs, 0.9);
    /// <summary>p90 / p10: the step-to-step spread (1 = every step equally long).</summary>
    public double Spread => P90 / P10;

    /// <summary>Records one repeat's timed steps, the peak working set it reached (null = unknown) and its counters (ours).</summary>
    public void AddRepeat(IReadOnlyList<double> stepMs, double? peakWorkingSetMib, StepCounters? counters = null)
    {
        if (counters is { } c)
        {
            Counters = Counters is { } sum ? sum.Plus(c) : c;
            CountedSteps += stepMs.Count;
        }
        StepMs.AddRange(stepMs);
        RepeatMs.Add(stepMs.Average());
        if (peakWorkingSetMib is double p) PeakWorkingSetMib = Math.Max(PeakWorkingSetMib ?? 0, p);
    }
}

/// <summary>One configuration and part: ours, the --against engines (in order), and the FLOPs every engine is credited with.</summary>
public sealed record PartResult(BenchConfig Config, string Part, PartFlops Flops, Measurement Ours, IReadOnlyList<Measurement> References)
{
    public static double ImagesPerSecond(BenchConfig config, Measurement m) => config.Batch / (m.Median / 1000);

    public double GflopsOf(Measurement m) => Flops.Total.Total / (m.Median / 1000) / 1e9;

    /// <summary>Their median over ours (our speed-up over them; null when either did not run).</summary>
    public double? RatioToOurs(Measurement theirs) => theirs.Available && Ours.Available ? theirs.Median / Ours.Median : null;

    /// <summary><see cref="RatioToOurs"/> of the first --against engine (null when there is none).</summary>
    public double? SpeedUp => References.Count > 0 ? RatioToOurs(References[0]) : null;
}
