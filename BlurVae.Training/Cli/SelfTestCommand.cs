using System.CommandLine;
using System.Text.Json.Nodes;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.SelfTest;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>
/// `blurvae selftest --device cuda|emulated [--quick]`: the backend parity suite (<see cref="BackendParity"/>) of the
/// chosen backend against the CPU backend in float64, in-process, so that a machine with a GPU but no .NET SDK can
/// check the kernels with the published executable alone.
/// </summary>
public static class SelfTestCommand
{
    /// <summary>Every check passed.</summary>
    public const int ExitPassed = 0;
    /// <summary>At least one check failed.</summary>
    public const int ExitFailed = 1;
    /// <summary>The requested backend cannot run here (no usable GPU, or no host kernels library for the emulation); nothing was tested.</summary>
    public const int ExitUnavailable = 2;

    public static Command Create()
    {
        var device = new Option<string>("--device")
        {
            Description = "Backend to test against the CPU backend: cuda (the GPU) or emulated (the CUDA kernels run on the host)",
            DefaultValueFactory = _ => "cuda",
        };
        device.AcceptOnlyFromAmong("cuda", "emulated");
        var quick = new Option<bool>("--quick") { Description = "Fewer and smaller cases per op (every op and direction is still checked) and a smaller training step" };
        var precision = new Option<string>("--precision")
        {
            Description = "tf32 (default): also check the GPU's tensor-core convolutions, at TF32 tolerances; fp32: strict FP32 only. Every other check runs in FP32",
            DefaultValueFactory = _ => "tf32",
        };
        precision.AcceptOnlyFromAmong(MathPrecisions.Names);
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs", DefaultValueFactory = _ => new ParityOptions().Seed };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result (every check, or why the backend is unavailable) as JSON here" };
        var command = new Command("selftest",
            $"Compare every backend op, and one training step, with the CPU backend. Exit code {ExitPassed}: all passed; {ExitFailed}: a check failed; {ExitUnavailable}: the backend cannot run here.");
        command.Options.Add(device);
        command.Options.Add(quick);
        command.Options.Add(seed);
        command.Options.Add(precision);
        command.Options.Add(json);
        command.SetAction(r => Run(r.GetValue(device)!, r.GetValue(quick), r.GetValue(seed), Console.Out, Console.Error,
                                   MathPrecisions.Parse(r.GetValue(precision)!), r.GetValue(json)?.FullName));
        return command;
    }

    public static int Run(string device, bool quick, int seed, TextWriter output, TextWriter error, MathPrecision precision = MathPrecision.Tf32,
                          string? jsonPath = null)
    {
        var candidate = Resolve(device, output, out string? unavailable);
        if (candidate is null)
        {
            error.WriteLine($"blurvae selftest: {unavailable}");
            if (jsonPath is not null) WriteJson(jsonPath, new JsonObject { ["device"] = device, ["available"] = false, ["reason"] = unavailable, ["exit_code"] = ExitUnavailable });
            return ExitUnavailable;
        }
        // Strict FP32 for every check; the conv checks add their TF32 pass themselves (ParityOptions.Precision).
        BackendSelection.Configure(candidate, MathPrecision.Fp32, null);
        return RunAgainstCpu(candidate, quick, seed, output, precision, jsonPath is null ? null : json => WriteJson(jsonPath, json));
    }

    /// <summary>The suite of <paramref name="candidate"/> against the CPU backend, a summary, and the exit code.</summary>
    internal static int RunAgainstCpu(IBackend candidate, bool quick, int seed, TextWriter output, MathPrecision precision = MathPrecision.Tf32,
                                      Action<JsonObject>? report = null)
    {
        var result = BackendParity.Run(candidate, CpuBackend.Instance, new ParityOptions { Quick = quick, Seed = seed, Precision = precision }, output);
        output.WriteLine(result.AllPassed ? $"selftest PASSED: {result.Summary}" : $"selftest FAILED: {result.Summary}");
        foreach (var failure in result.Failures) output.WriteLine("  " + failure.Line);
        int code = result.AllPassed ? ExitPassed : ExitFailed;
        report?.Invoke(new JsonObject
        {
            ["device"] = candidate.Name, ["available"] = true, ["reference"] = result.Reference, ["quick"] = quick, ["seed"] = seed,
            ["precision"] = precision.ToString().ToLowerInvariant(),
            ["total"] = result.Total, ["passed"] = result.Passed, ["failed"] = result.Failed, ["elapsed_s"] = result.Elapsed.TotalSeconds,
            ["summary"] = result.Summary, ["exit_code"] = code,
            ["checks"] = new JsonArray(result.Checks.Select(c => (JsonNode)new JsonObject
            {
                ["op"] = c.Op, ["sizes"] = c.Sizes, ["passed"] = c.Passed, ["max_abs_error"] = Finite(c.MaxAbsError),
                ["max_rel_error"] = Finite(c.MaxRelError), ["worst_ratio"] = Finite(c.WorstRatio), ["failure"] = c.Failure,
            }).ToArray()),
        });
        return code;
    }

    // JSON has no NaN or infinity: a non-finite error (a NaN output) is written as null.
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static void WriteJson(string path, JsonObject json) =>
        Io.AtomicFile.WriteAllText(path, json.ToJsonString(Benchmarks.BenchReport.JsonOptions) + "\n");

    /// <summary>The backend for --device, or null with the reason it cannot run here.</summary>
    private static IBackend? Resolve(string device, TextWriter log, out string? unavailable)
    {
        unavailable = null;
        switch (device)
        {
            case "cuda":
            {
                // Not BackendSelection.Select: training falls back to the CPU without a GPU; a self-test must not.
                var cuda = BackendSelection.Cuda(out var reason);
                if (cuda is null) unavailable = BackendSelection.CudaUnavailable(reason);
                return cuda;
            }
            case "emulated":
                try
                {
                    return BackendSelection.Select(device, "f32", log);
                }
                catch (NotSupportedException e)
                {
                    // The emulated device needs the host build of the kernels (libblurvae_kernels_host.so).
                    unavailable = e.Message;
                    return null;
                }
            default:
                throw new ArgumentException($"--device must be cuda or emulated (got '{device}').");
        }
    }
}
