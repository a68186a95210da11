namespace BlurVae.Training.Benchmarks;

/// <summary>PyTorch's side: reference/pytorch/bench.py run with a Python that has torch (<see cref="TorchPython"/>).</summary>
public sealed class PyTorchRunner(string python, string? script, string? missing = null) : ReferenceEngine
{
    public const string RelativeScript = "reference/pytorch/bench.py";

    public string Python { get; } = python;
    /// <summary>Path of bench.py, or null when it could not be found.</summary>
    public string? Script { get; } = script;

    public override string Engine => "pytorch";
    public override string? Missing => Script is null ? missing ?? $"{RelativeScript} not found" : null;
    protected override string ProgramName => "bench.py";
    protected override (string File, IReadOnlyList<string> Leading) Invocation => (Python, [Script ?? RelativeScript]);

    /// <summary>bench.py at the explicit --reference path, else <see cref="RelativeScript"/> in the repository.</summary>
    public static PyTorchRunner Find(string python, string? explicitPath)
    {
        if (explicitPath is not null)
            return File.Exists(explicitPath) ? new(python, Path.GetFullPath(explicitPath)) : new(python, null, $"{RelativeScript} not found (looked at {explicitPath})");
        var script = FindInRepository(RelativeScript, out var searched);
        return new(python, script, $"{RelativeScript} not found (looked at {searched})");
    }

    /// <summary>bench.py's JSON object (the last non-empty line of its output).</summary>
    public static Outcome Parse(string stdout) => Parse(stdout, "bench.py");
}
