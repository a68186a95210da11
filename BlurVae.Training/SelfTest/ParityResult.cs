namespace BlurVae.Training.SelfTest;

/// <summary>
/// One comparison: an op (and direction) on one set of sizes. MaxAbsError is the largest |candidate − reference| over
/// every compared output; MaxRelError the largest |Δ|/|reference| over the elements where the relative tolerance is
/// the larger term (near zero only the absolute one means anything); WorstRatio the largest |Δ|/tolerance (≤ 1 passes).
/// </summary>
public sealed record ParityCheck(string Op, string Sizes, double MaxAbsError, double MaxRelError, double WorstRatio, bool Passed, string? Failure)
{
    /// <summary>The line printed for the check: verdict, op, sizes, errors, and on failure the first bad element.</summary>
    public string Line => $"{(Passed ? "PASS" : "FAIL")}  {Op,-34} {Sizes,-44} max|Δ| {MaxAbsError,9:E2}  max rel {MaxRelError,9:E2}  " +
                          $"worst {WorstRatio,8:G3}×tol" + (Failure is null ? "" : "  — " + Failure);
}

/// <summary>What a parity run found.</summary>
public sealed record ParityResult(string Candidate, string Reference, IReadOnlyList<ParityCheck> Checks, TimeSpan Elapsed)
{
    public int Total => Checks.Count;
    public int Passed => Checks.Count(c => c.Passed);
    public int Failed => Total - Passed;
    public IReadOnlyList<ParityCheck> Failures => Checks.Where(c => !c.Passed).ToArray();
    public bool AllPassed => Total > 0 && Failed == 0;

    /// <summary>One line: counts, time, and the ops that failed.</summary>
    public string Summary =>
        $"{Candidate} vs {Reference}: {Passed} of {Total} checks passed, {Failed} failed, in {Elapsed.TotalSeconds:F1} s" +
        (Failed == 0 ? "" : "; failed: " + string.Join(", ", Failures.Select(f => f.Op).Distinct()));
}
