using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// An engine `blurvae bench` compares ours with: a program run as a child process, one process per repeat, taking
/// bench.py's flags and printing bench.py's one JSON object ({"engine":…,"torch":…,"device_name":…,"step_ms":[…],
/// "peak_working_set_mib":…,…}) as its last line on stdout. PyTorch (reference/pytorch/bench.py) and libtorch through
/// TorchSharp (bench/BlurVae.LibTorchBench) are the two.
/// </summary>
public abstract class ReferenceEngine
{
    /// <summary>"pytorch" or "libtorch", as --against names it and the JSON's engine field says.</summary>
    public abstract string Engine { get; }

    /// <summary>Why the engine cannot run at all (its program not found), or null.</summary>
    public abstract string? Missing { get; }

    /// <summary>The short name of the program in messages ("bench.py").</summary>
    protected abstract string ProgramName { get; }

    /// <summary>The executable and the arguments before bench.py's flags.</summary>
    protected abstract (string File, IReadOnlyList<string> Leading) Invocation { get; }

    /// <summary>The flags of one repeat: bench.py's, which every engine takes.</summary>
    public static List<string> Arguments(BenchConfig config, string part, string device, int threads, int warmup, int steps, bool compile, int seed = 1)
    {
        var args = new List<string>(config.ReferenceArguments())
        {
            "--device", device, "--threads", Inv(threads), "--warmup", Inv(warmup), "--steps", Inv(steps), "--part", part,
            "--dtype", "float32", "--seed", Inv(seed),
        };
        if (compile) args.Add("--compile");
        return args;
    }

    public string CommandLine(IEnumerable<string> args)
    {
        var (file, leading) = Invocation;
        return string.Join(" ", new[] { file }.Concat(leading).Concat(args).Select(Quote));
    }

    /// <summary>One repeat: the step times the engine measured and what it said about itself, or the reason it gave none.</summary>
    public Outcome Run(IReadOnlyList<string> args, TimeSpan timeout)
    {
        if (Missing is { } missing) return Outcome.Failed(missing);
        var (file, leading) = Invocation;
        var r = ChildProcess.Run(file, leading.Concat(args), timeout);
        if (r.StartError is not null) return Outcome.Failed($"{file} could not be started ({r.StartError})");
        if (r.TimedOut) return Outcome.Failed($"{ProgramName} did not finish within {timeout.TotalSeconds:F0} s");
        if (r.ExitCode != 0)
            return Outcome.Failed($"{ProgramName} exited with code {r.ExitCode}: {LastLine(r.Stderr) ?? LastLine(r.Stdout) ?? "no output"}");
        return Parse(r.Stdout, ProgramName);
    }

    /// <summary>Reads the engine's JSON object (the last non-empty line of its output).</summary>
    public static Outcome Parse(string stdout, string programName)
    {
        var line = LastLine(stdout);
        if (line is null) return Outcome.Failed($"{programName} printed nothing on stdout");
        try
        {
            var json = JsonNode.Parse(line)?.AsObject() ?? throw new JsonException("not an object");
            var steps = json["step_ms"]?.AsArray().Select(v => v!.GetValue<double>()).ToList()
                        ?? throw new JsonException("no step_ms");
            if (steps.Count == 0 || steps.Any(v => !double.IsFinite(v) || v <= 0)) throw new JsonException("step_ms must be positive numbers");
            return new Outcome(steps, json, null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return Outcome.Failed($"{programName}'s output is not the expected JSON ({e.Message}): {Truncate(line)}");
        }
    }

    /// <summary>
    /// Null when the model the engine reports (its "parameters" field: {"vae": N, "kernel_generator": M}, step part
    /// only) has our parameter counts, else why not: both engines must time the same network.
    /// </summary>
    public string? CompareParameters(JsonObject? info, long vae, long generator)
    {
        if (info?["parameters"] is not JsonObject p) return null;
        long theirsVae = p["vae"]?.GetValue<long>() ?? -1, theirsGen = p["kernel_generator"]?.GetValue<long>() ?? -1;
        return theirsVae == vae && theirsGen == generator ? null
            : $"{ProgramName} built a different model: VAE {theirsVae} and G_γ {theirsGen} parameters, ours {vae} and {generator}";
    }

    public sealed record Outcome(List<double>? StepMs, JsonObject? Info, string? Error)
    {
        public static Outcome Failed(string error) => new(null, null, error);
    }

    /// <summary>
    /// <paramref name="relative"/> under the first folder holding BlurVae.sln above the working directory or above this
    /// assembly, or null; <paramref name="searched"/> says where it looked.
    /// </summary>
    protected static string? FindInRepository(string relative, out string searched)
    {
        var looked = new List<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "BlurVae.sln"))) continue;
                var candidate = Path.Combine(dir.FullName, relative);
                looked.Add(candidate);
                if (File.Exists(candidate)) { searched = candidate; return candidate; }
                break;
            }
        }
        searched = looked.Count > 0 ? string.Join(", ", looked.Distinct()) : "no folder with BlurVae.sln above the working directory or the blurvae binary";
        return null;
    }

    private static string? LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./,=:".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
