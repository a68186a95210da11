using System.Globalization;

namespace BlurVae.Training.Metrics;

/// <summary>
/// Mean and standard deviation of a metric over a set of images. Std is the population deviation (divide by n,
/// numpy's default ddof = 0), so a single image gives std 0 rather than NaN.
/// </summary>
public readonly record struct MeanStd(double Mean, double Std, int Count)
{
    public static MeanStd Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("Mean and std need at least one value.", nameof(values));
        double sum = 0;
        foreach (var v in values) sum += v;
        double mean = sum / values.Count;
        // Two-pass variance: exact enough for metric values, no cancellation from Σx² − n·mean².
        double ss = 0;
        foreach (var v in values) ss += (v - mean) * (v - mean);
        return new MeanStd(mean, Math.Sqrt(ss / values.Count), values.Count);
    }

    /// <summary>"mean ± std" with a fixed number of decimals, invariant culture; non-finite values print as inf/-inf/nan.</summary>
    public string ToString(int decimals) => $"{Format(Mean, decimals)} ± {Format(Std, decimals)}";

    public override string ToString() => ToString(4);

    internal static string Format(double v, int decimals)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        return v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
