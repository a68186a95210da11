namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The summaries of timings that every benchmark reports, the step harness (`blurvae bench`) and the micro-benchmarks
/// of bench/BlurVae.Bench alike, so that a "median" means the same thing in every table.
/// </summary>
public static class Stats
{
    /// <summary>Linear-interpolation quantile (numpy's default) of the values.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) throw new InvalidOperationException("no timings to summarise");
        var sorted = values.Order().ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>The median: the middle value, or the mean of the two middle ones.</summary>
    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);
}
