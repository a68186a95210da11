using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Runs reference/pytorch/bench.py as a subprocess, one process per repeat, and reads the one JSON object it prints:
/// {"engine":"pytorch","torch":…,"device":…,"device_name":…,"threads":…,"part":…,"compiled":…,"step_ms":[…]}.
/// </summary>
public sealed class PyTorchRunner(string python, string? script)
{
    public const string RelativeScript = "reference/pytorch/bench.py";

    public string Python { get; } = python;
    /// <summary>Path of bench.py, or null when it could not be found.</summary>
    public string? Script { get; } = script;

    /// <summary>
    /// bench.py: the explicit --reference path, else reference/pytorch/bench.py under the first folder holding
    /// BlurVae.sln above the working directory or above this assembly. Null when neither has it.
    /// </summary>
    public static string? FindScript(string? explicitPath, out string searched)
    {
        if (explicitPath is not null)
        {
            searched = explicitPath;
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }
        var looked = new List<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "BlurVae.sln"))) continue;
                var candidate = Path.Combine(dir.FullName, RelativeScript);
                looked.Add(candidate);
                if (File.Exists(candidate)) { searched = candidate; return candidate; }
                break;
            }
        }
        searched = looked.Count > 0 ? string.Join(", ", looked.Distinct()) : "no folder with BlurVae.sln above the working directory or the blurvae binary";
        return null;
    }

    /// <summary>The arguments of one repeat.</summary>
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

    public string CommandLine(IEnumerable<string> args) =>
        string.Join(" ", new[] { Python, Script ?? RelativeScript }.Concat(args).Select(Quote));

    /// <summary>One repeat: the step times bench.py measured and what it said about itself, or the reason it gave none.</summary>
    public Outcome Run(IReadOnlyList<string> args, TimeSpan timeout)
    {
        if (Script is null) return Outcome.Failed($"{RelativeScript} not found");
        var r = ChildProcess.Run(Python, new[] { Script }.Concat(args), timeout);
        if (r.StartError is not null) return Outcome.Failed($"{Python} could not be started ({r.StartError})");
        if (r.TimedOut) return Outcome.Failed($"bench.py did not finish within {timeout.TotalSeconds:F0} s");
        if (r.ExitCode != 0)
            return Outcome.Failed($"bench.py exited with code {r.ExitCode}: {LastLine(r.Stderr) ?? LastLine(r.Stdout) ?? "no output"}");
        return Parse(r.Stdout);
    }

    /// <summary>Reads bench.py's JSON object (the last non-empty line of its output).</summary>
    public static Outcome Parse(string stdout)
    {
        var line = LastLine(stdout);
        if (line is null) return Outcome.Failed("bench.py printed nothing on stdout");
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
            return Outcome.Failed($"bench.py's output is not the expected JSON ({e.Message}): {Truncate(line)}");
        }
    }

    public sealed record Outcome(List<double>? StepMs, JsonObject? Info, string? Error)
    {
        public static Outcome Failed(string error) => new(null, null, error);
    }

    private static string? LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./,=:".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
