
namespace BlurVae.Training.SelfTest;

/// <summary>An input or output of one op: its initial contents and, for an output, the tolerance it is compared with.</summary>
internal sealed record Operand(string Name, float[] Values, Tolerance? Compare = null);

/// <summary>One op family's checks in the shipped list (<see cref="BackendParity.Families"/>), by the name a test case carries.</summary>
internal sealed record ParityFamily(string Name, Action<ParityHarness> Run);

/// <summary>The buffers of one op call on one backend, by operand name.</summary>
internal sealed class OperandBuffers(Dictionary<string, BackendBuffer> buffers)
{
    public BackendBuffer this[string name] => buffers.TryGetValue(name, out var b) ? b
        : throw new KeyNotFoundException($"The parity case has no operand '{name}'.");

    /// <summary>The buffer, or null where the case leaves this optional operand out.</summary>
    public BackendBuffer? Optional(string name) => buffers.GetValueOrDefault(name);
}

/// <summary>
/// Runs one op on the candidate (float32) and on the reference (in <see cref="ParityOptions.ReferenceDType"/>) from
/// the same float32 inputs, compares the outputs, prints one line and records the check. Every output starts with
/// random contents, so an op that should overwrite but accumulates (or leaves elements untouched) is caught.
/// </summary>
internal sealed class ParityHarness(IBackend candidate, IBackend reference, ParityOptions options, TextWriter log)
{
    private readonly List<ParityCheck> _checks = [];

    public IBackend Candidate { get; } = candidate;
    public IBackend Reference { get; } = reference;
    public ParityOptions Options { get; } = options;
    /// <summary>The random inputs of the family now running, seeded by <see cref="ParityOptions.Seed"/> and the family's name.</summary>
    public Random Rng { get; private set; } = new(options.Seed);
    public IReadOnlyList<ParityCheck> Checks => _checks;

    /// <summary>
    /// Runs one family's checks with inputs of its own (seeded by the options' seed and the family's name, not by
    /// the families before it), so that one family alone, as a test case, sees the same inputs as in the whole run.
    /// </summary>
    public void RunFamily(ParityFamily family)
    {
        Rng = new Random(Options.Seed ^ StableHash(family.Name));
        family.Run(this);
    }

    // FNV-1a: string.GetHashCode differs from process to process.
    private static int StableHash(string s)
    {
        uint hash = 2166136261;
        foreach (char ch in s) hash = (hash ^ ch) * 16777619;
        return (int)hash;
    }

    /// <summary>n values uniform in [lo, hi).</summary>
    public float[] Uniform(int n, double lo = -1, double hi = 1)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * Rng.NextDouble());
        return v;
    }

    /// <summary>n values of random sign with magnitude in [lo, hi): inputs kept away from zero (divisors).</summary>
    public float[] AwayFromZero(int n, double lo, double hi)
    {
        var v = Uniform(n, lo, hi);
        for (int i = 0; i < n; i++) if (Rng.Next(2) == 0) v[i] = -v[i];
        return v;
    }

    public void Check(string op, string sizes, Operand[] operands, Action<IBackend, OperandBuffers> run)
    {
        var onReference = Allocate(Reference, Options.ReferenceDType, operands);
        var onCandidate = Allocate(Candidate, DType.Float32, operands);
        try
        {
            try
            {
                run(Reference, new OperandBuffers(onReference));
            }
            catch (Exception e)
            {
                Record(op, sizes, [], $"the reference backend {Reference.Name} threw {e.GetType().Name}: {e.Message}");
                return;
            }
            try
            {
                run(Candidate, new OperandBuffers(onCandidate));
            }
            catch (Exception e)
            {
                Record(op, sizes, [], $"{Candidate.Name} threw {e.GetType().Name}: {e.Message}");
                return;
            }
            var outputs = operands.Where(o => o.Compare is not null)
                .Select(o => new Comparison(o.Name, Download(Reference, onReference[o.Name]), Download(Candidate, onCandidate[o.Name]), o.Compare!.Value))
                .ToArray();
            Record(op, sizes, outputs);
        }
        finally
        {
            foreach (var b in onReference.Values.Concat(onCandidate.Values)) b.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="run"/> on the reference alone and returns <paramref name="outputs"/> rounded to float32:
    /// derived inputs (a softmax output for its backward, saved batch statistics) that both backends then receive.
    /// </summary>
    public float[][] OnReference(Operand[] operands, Action<IBackend, OperandBuffers> run, params string[] outputs)
    {
        var buffers = Allocate(Reference, Options.ReferenceDType, operands);
        try
        {
            run(Reference, new OperandBuffers(buffers));
            return outputs.Select(name =>
            {
                var values = new float[buffers[name].Length];
                Reference.Download(buffers[name], values);
                return values;
            }).ToArray();
        }
        finally
        {
            foreach (var b in buffers.Values) b.Dispose();
        }
    }

    /// <summary>Records a check over outputs computed elsewhere (the training step); failure, when given, fails it regardless.</summary>
    public void Record(string op, string sizes, IReadOnlyList<Comparison> outputs, string? failure = null)
    {
        double maxAbs = 0, maxRel = 0, worst = 0;
        foreach (var c in outputs)
        {
            var (abs, rel, ratio, firstBad) = c.Measure();
            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, rel);
            worst = Math.Max(worst, ratio);
            failure ??= firstBad;
        }
        // A check that threw has no errors to report.
        if (outputs.Count == 0) maxAbs = maxRel = worst = double.NaN;
        var check = new ParityCheck(op, sizes, maxAbs, maxRel, worst, failure is null, failure);
        _checks.Add(check);
        log.WriteLine(check.Line);
    }

    private static Dictionary<string, BackendBuffer> Allocate(IBackend backend, DType dtype, Operand[] operands)
    {
        var buffers = new Dictionary<string, BackendBuffer>(operands.Length);
        try
        {
            foreach (var o in operands)
            {
                var b = backend.Allocate(dtype, o.Values.Length);
                buffers.Add(o.Name, b);
                backend.Upload(b, o.Values);
            }
        }
        catch
        {
            foreach (var b in buffers.Values) b.Dispose();
            throw;
        }
        return buffers;
    }

    private static double[] Download(IBackend backend, BackendBuffer buffer)
    {
        var values = new double[buffer.Length];
        backend.Download(buffer, values);
        return values;
    }
}

/// <summary>One output of both backends and the tolerance it must meet.</summary>
internal sealed record Comparison(string Name, double[] Reference, double[] Candidate, Tolerance Tolerance)
{
    /// <summary>Largest |Δ|, largest |Δ|/|ref| where the relative term dominates, largest |Δ|/tol, and the first element off (null: none).</summary>
    public (double MaxAbs, double MaxRel, double WorstRatio, string? FirstBad) Measure()
    {
        if (Reference.Length != Candidate.Length)
            return (double.NaN, double.NaN, double.NaN, $"{Name}: {Candidate.Length} elements, the reference {Reference.Length}");
        double maxAbs = 0, maxRel = 0, worst = 0;
        int bad = 0, firstBad = -1;
        for (int i = 0; i < Reference.Length; i++)
        {
            double r = Reference[i], c = Candidate[i], diff = Math.Abs(c - r), tol = Tolerance.For(r);
            // NaN anywhere (either side) fails: every comparison with NaN is false.
            if (!(diff <= tol))
            {
                if (bad++ == 0) firstBad = i;
            }
            if (double.IsNaN(diff)) { maxAbs = double.NaN; worst = double.NaN; continue; }
            maxAbs = Math.Max(maxAbs, diff);
            if (Tolerance.Rtol * Math.Abs(r) >= Tolerance.Atol && r != 0) maxRel = Math.Max(maxRel, diff / Math.Abs(r));
            worst = Math.Max(worst, tol > 0 ? diff / tol : diff > 0 ? double.PositiveInfinity : 0);
        }
        if (bad == 0) return (maxAbs, maxRel, worst, null);
        double rf = Reference[firstBad], cf = Candidate[firstBad];
        return (maxAbs, maxRel, double.IsNaN(worst) ? double.PositiveInfinity : worst,
            $"{Name}[{firstBad}]: {cf:G9} vs reference {rf:G9}, |Δ| {Math.Abs(cf - rf):E2} > tol {Tolerance.For(rf):E2} ({bad} of {Reference.Length} elements off; {Tolerance})");
    }
}
