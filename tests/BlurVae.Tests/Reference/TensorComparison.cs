namespace BlurVae.Tests.Reference;

/// <summary>
/// The tolerance of one comparison: element i passes when |ours_i − ref_i| ≤ Relative · max(|ref_i|, Floor · scale),
/// scale being max|ref| over the tensor (over all of a step's gradients for a gradient). Floor is the "tiny atol" for
/// values that are ~0: an entry far below its tensor's largest (a gradient that cancels to almost nothing, such as a
/// convolution bias feeding a batch norm, whose exact gradient is 0) is held to Relative·Floor·scale, not to its own
/// magnitude, where summation order alone decides the digits.
/// </summary>
public readonly record struct Tolerance(double Relative, double Floor)
{
    public override string ToString() => $"rel {Relative:G2} (floor {Floor:G2}·scale)";

    /// <summary>Only present, of the same shape and finite (a NaN or infinity is an infinite error, above MaxValue).</summary>
    public static Tolerance Unchecked => new(double.MaxValue, 1e-3);
}

/// <summary>Compares every tensor this side computed with the reference's, naming each one that fails.</summary>
internal static class TensorComparison
{
    /// <param name="ours">This side's tensors, name → (shape, values).</param>
    /// <param name="reference">What crosscheck.py wrote.</param>
    /// <param name="toleranceFor">The tolerance of a tensor name.</param>
    /// <param name="learningRate">Adam's lr: where a gradient is ~0 within its tolerance, the sign of Adam's first update
    /// (≈ lr·sign(g)) is arbitrary, so the parameter after the step may differ by up to 2·lr there.</param>
    public static void AssertAllClose(IReadOnlyDictionary<string, (int[] Shape, double[] Values)> ours,
                                      IReadOnlyDictionary<string, SafeTensors.Entry> reference,
                                      Func<string, Tolerance> toleranceFor, double learningRate)
    {
        var failures = new List<string>();
        var report = new StringBuilder();
        var missing = ours.Keys.Where(k => !reference.ContainsKey(k)).ToList();
        var extra = reference.Keys.Where(k => !ours.ContainsKey(k)).ToList();
        if (missing.Count > 0) failures.Add($"the reference did not compute: {string.Join(", ", missing)}");
        if (extra.Count > 0) failures.Add($"the reference computed what C# did not: {string.Join(", ", extra)}");
        var stepScale = new Dictionary<string, double>
        {
            ["elbo/grad/"] = MaxAbs(reference.Where(kv => kv.Key.StartsWith("elbo/grad/", StringComparison.Ordinal)).SelectMany(kv => kv.Value.Values)),
            ["kernel/grad/"] = MaxAbs(reference.Where(kv => kv.Key.StartsWith("kernel/grad/", StringComparison.Ordinal)).SelectMany(kv => kv.Value.Values)),
        };
        double worst = 0;
        string worstName = "";
        foreach (var (name, (shape, values)) in ours.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!reference.TryGetValue(name, out var entry)) continue;
            if (!SameShape(shape, entry.Shape))
            {
                failures.Add($"{name}: shape [{string.Join(", ", shape)}] here, [{string.Join(", ", entry.Shape)}] in the reference");
                continue;
            }
            var tol = toleranceFor(name);
            double scale = MaxAbs(entry.Values);
            foreach (var (prefix, s) in stepScale)
                if (name.StartsWith(prefix, StringComparison.Ordinal)) scale = s;
            var slack = new double[values.Length];
            var gradName = name.Replace("/param/", "/grad/", StringComparison.Ordinal);
            if (gradName != name && reference.TryGetValue(gradName, out var grad))
            {
                var gtol = toleranceFor(gradName);
                double noise = 10 * gtol.Relative * gtol.Floor * stepScale[gradName[..(gradName.IndexOf("/grad/", StringComparison.Ordinal) + 6)]];
                for (int i = 0; i < slack.Length; i++)
                    if (Math.Abs(grad.Values[i]) <= noise) slack[i] = 2 * learningRate;
            }
            var (error, index) = ScaledError(values, entry.Values, tol.Floor * scale, slack);
            report.AppendLine($"  {name,-50} {error:E2}");
            if (error > worst) (worst, worstName) = (error, name);
            if (!(error <= tol.Relative))
                failures.Add($"{name}: scaled error {error:E3} > {tol} at element {index} (C# {values[index]:R}, PyTorch {entry.Values[index]:R}; scale {scale:E2})");
        }
        TestContext.Out.WriteLine($"compared {ours.Count} tensors; largest scaled error {worst:E2} ({worstName}); per tensor:");
        TestContext.Out.Write(report.ToString());
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} of {ours.Count} tensors differ from PyTorch:\n" + string.Join("\n", failures));
    }

    /// <summary>max_i (|a_i − b_i| − slack_i)⁺ / max(|b_i|, absFloor); NaN anywhere is an infinite error.</summary>
    public static (double Error, int Index) ScaledError(double[] ours, double[] reference, double absFloor, double[] slack)
    {
        double worst = 0;
        int at = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double diff = Math.Max(0, Math.Abs(ours[i] - reference[i]) - slack[i]);
            double denom = Math.Max(Math.Abs(reference[i]), absFloor);
            double e = diff == 0 ? 0 : denom > 0 ? diff / denom : double.PositiveInfinity;
            if (double.IsNaN(ours[i]) || double.IsNaN(reference[i])) e = double.PositiveInfinity;
            if (e > worst) (worst, at) = (e, i);
        }
        return (worst, at);
    }

    private static double MaxAbs(IEnumerable<double> values)
    {
        double m = 0;
        foreach (var v in values) m = Math.Max(m, Math.Abs(v));
        return m;
    }

    // A scalar is [] on one side and possibly [1] on the other.
    private static bool SameShape(int[] a, int[] b) =>
        a.SequenceEqual(b) || (a.Aggregate(1, (p, d) => p * d) == 1 && b.Aggregate(1, (p, d) => p * d) == 1);
}
