using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace BlurVae.Training.Benchmarks;

/// <summary>A finished benchmark run and its three renderings: a console table, JSON and a markdown table.</summary>
public sealed record BenchReport(BenchOptions Options, MachineInfo Machine, DateTimeOffset Date, string Command, IReadOnlyList<PartResult> Results)
{
    public const string FlopConvention =
        "Counted from the autograd graph of the measured pass: convolutions, transposed convolutions, linears and matmuls at " +
        "2 FLOPs per multiply-add, forward once and backward once more per operand whose gradient the pass computes " +
        "(weights that train; activations that lead back to a trained weight; never the data); real 2-D FFTs of n = H·W points " +
        "at 2.5·n·log2(n) each (half of a complex FFT's 5·n·log2(n)), forward and, where differentiated, backward. " +
        "Elementwise ops, batch norm, softmax, reductions and the Adam updates are not counted.";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The version an engine ("pytorch", "libtorch") reported, or null when it did not run.</summary>
    public string? VersionOf(string engine) =>
        Results.SelectMany(r => r.References).Where(m => m.Engine == engine).Select(m => m.Version).FirstOrDefault(v => v is not null);

    public string? TorchVersion => VersionOf("pytorch");

    /// <summary>", torch 1.13.1, libtorch 2.10.0" for the engines that ran.</summary>
    private string Versions(string pytorchLabel) =>
        (TorchVersion is { } v ? $", {pytorchLabel} {v}" : "") + (VersionOf("libtorch") is { } l ? $", libtorch {l}" : "");

    /// <summary>Loss part over step part of the same engine and configuration (both medians), when both were measured.</summary>
    public IEnumerable<(string Config, string Engine, double Share)> LossShares()
    {
        foreach (var group in Results.GroupBy(r => r.Config.Name))
        {
            var step = group.FirstOrDefault(r => r.Part == "step");
            var loss = group.FirstOrDefault(r => r.Part == "loss");
            if (step is null || loss is null) continue;
            if (step.Ours.Available && loss.Ours.Available) yield return (group.Key, "blurvae", loss.Ours.Median / step.Ours.Median);
            foreach (var s in step.References.Where(m => m.Available))
                if (loss.References.FirstOrDefault(m => m.Engine == s.Engine) is { Available: true } l) yield return (group.Key, s.Engine, l.Median / s.Median);
        }
    }

    private IEnumerable<(PartResult Result, Measurement M)> Rows()
    {
        foreach (var r in Results)
        {
            yield return (r, r.Ours);
            foreach (var m in r.References) yield return (r, m);
        }
    }

    private string SgemmShare(PartResult r, Measurement m) =>
        Options.SgemmGflops is double s && m.Available ? (100 * r.GflopsOf(m) / s).ToString("F1", Inv) + " %" : "–";

    private static string Percentiles(Measurement m) => m.Available ? $"{F(m.P10)}–{F(m.P90)}" : "–";

    private static string Peak(Measurement m) => m.PeakWorkingSetMib is double p ? p.ToString("F0", Inv) : "–";

    private static string AllocatedKib(Measurement m) => m.PerStep(c => c.AllocatedBytes) is double b ? (b / 1024).ToString("F1", Inv) : "–";

    private static string Collections(Measurement m) =>
        m.PerStep(c => c.Gen0) is double g0 && m.PerStep(c => c.Gen1) is double g1 && m.PerStep(c => c.Gen2) is double g2
            ? $"{g0.ToString("F2", Inv)}/{g1.ToString("F2", Inv)}/{g2.ToString("F2", Inv)}"
            : "–";

    private static string F(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", Inv);

    private static string EngineLabel(Measurement m) => m.Engine switch
    {
        "pytorch" => $"PyTorch {m.Version ?? ""}{(m.Compiled ? " (compiled)" : "")}".Trim(),
        "libtorch" => $"libtorch {m.Version ?? ""}".Trim() + " (TorchSharp)",
        _ => "BlurVae",
    };

    private static string[] Cells(PartResult r, Measurement m, string sgemm)
    {
        if (!m.Available)
            return [r.Config.Name, r.Part, EngineLabel(m), m.Device, m.Threads.ToString(Inv), $"unavailable: {m.Reason}", "", "", "", "", "", "", "", "", "", ""];
        return
        [
            r.Config.Name, r.Part, EngineLabel(m), m.Device, m.Threads.ToString(Inv), F(m.Median), Percentiles(m),
            m.Spread.ToString("F2", Inv), Peak(m), AllocatedKib(m), Collections(m),
            F(PartResult.ImagesPerSecond(r.Config, m)), (r.Flops.Total.Total / 1e9).ToString("F2", Inv), F(r.GflopsOf(m)), sgemm,
            m.Engine != "blurvae" && r.RatioToOurs(m) is double s ? s.ToString("F2", Inv) + "×" : "",
        ];
    }

    private static readonly string[] Headers =
        ["config", "part", "engine", "device", "threads", "ms/step (median)", "p10–p90 ms", "p90/p10", "peak WS MiB", "managed KiB/step", "GCs/step (gen0/1/2)", "images/s", "GFLOP/pass", "GFLOP/s", "% of SGEMM", "theirs/ours (our speed-up)"];

    /// <summary>The Spectre.Console table, then the loss shares and the conventions.</summary>
    public void WriteTable(TextWriter writer, bool ansi = false)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = Math.Max(console.Profile.Width, 220);
        var table = new Table().Title($"blurvae bench ({Options.Device}, {Options.Threads} threads, {Options.Repeats} repeats × {Options.Steps} steps after {Options.Warmup} warm-up)");
        for (int i = 0; i < Headers.Length; i++)
        {
            var column = new TableColumn(Markup.Escape(Headers[i]));
            if (i >= 4) column.RightAligned();
            table.AddColumn(column);
        }
        foreach (var (r, m) in Rows())
            table.AddRow(Cells(r, m, SgemmShare(r, m)).Select(c => new Text(c)).ToArray<Spectre.Console.Rendering.IRenderable>());
        console.Write(table);
        foreach (var line in Notes()) console.WriteLine(line, Style.Plain);
    }

    private IEnumerable<string> Notes()
    {
        foreach (var (config, engine, share) in LossShares())
            yield return $"{config}: the loss part (Wiener + kernel fit, forward and backward) takes {share * 100:F1} % of {engine}'s step time.";
        if (Options.SgemmGflops is double s)
            yield return $"% of SGEMM: achieved GFLOP/s over {s.ToString("F1", Inv)} GFLOP/s (the machine's SGEMM figure passed with --sgemm-gflops).";
        yield return "Statistics over every timed step of every repeat (steady state: warm-up steps are not timed); peak WS = the " +
                     "process's peak resident set during the timed steps (Linux VmHWM, reset after the warm-up), the largest over the repeats; " +
                     "managed KiB/step and GCs/step (ours only) = managed bytes allocated by all threads and garbage collections reaching each " +
                     "generation (a gen-2 collection counts for all three), per timed step.";
        yield return $"Machine: {Machine.Describe()}{Versions("torch")}.";
        yield return "FLOPs: " + FlopConvention;
    }

    /// <summary>The markdown table with the machine, versions and commands.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Machine: {Machine.Describe()}" +
                      $"{Versions("PyTorch")}; {Date.ToString("yyyy-MM-dd HH:mm", Inv)} UTC.");
        sb.AppendLine();
        sb.AppendLine($"Command: `{Command}`");
        foreach (var (engine, cmd) in Results.SelectMany(r => r.References).Where(m => m.Command is not null).Select(m => (m.Engine, m.Command)).Distinct())
            sb.AppendLine($"{(engine == "pytorch" ? "PyTorch" : engine)} repeat: `{cmd}`");
        sb.AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Headers) + " |");
        sb.AppendLine("|" + string.Join("|", Headers.Select((_, i) => i >= 4 ? "---:" : "---")) + "|");
        foreach (var (r, m) in Rows())
            sb.AppendLine("| " + string.Join(" | ", Cells(r, m, SgemmShare(r, m)).Select(c => c.Replace("|", "\\|"))) + " |");
        sb.AppendLine();
        foreach (var line in Notes().Where(l => !l.StartsWith("Machine:", StringComparison.Ordinal)))
            sb.AppendLine(line).AppendLine();
        return sb.ToString();
    }

    public JsonObject ToJson()
    {
        var results = new JsonArray();
        foreach (var r in Results)
        {
            var engines = new JsonArray { Engine(r, r.Ours) };
            foreach (var m in r.References) engines.Add(Engine(r, m));
            results.Add(new JsonObject
            {
                ["config"] = r.Config.Name,
                ["description"] = r.Config.Describe(),
                ["batch"] = r.Config.Batch,
                ["image_channels"] = r.Config.ImageChannels,
                ["side"] = r.Config.Side,
                ["channels"] = new JsonArray(r.Config.Channels.Select(c => (JsonNode)c).ToArray()),
                ["latent"] = r.Config.Latent,
                ["kernel"] = r.Config.KernelSize,
                ["mlp_hidden"] = r.Config.MlpHidden,
                ["loss"] = r.Config.Loss.ToString().ToLowerInvariant(),
                ["part"] = r.Part,
                ["flops"] = new JsonObject
                {
                    ["forward_matrix"] = r.Flops.Forward.Matrix,
                    ["forward_fft"] = r.Flops.Forward.Fft,
                    ["backward_matrix"] = r.Flops.Backward.Matrix,
                    ["backward_fft"] = r.Flops.Backward.Fft,
                    ["total"] = r.Flops.Total.Total,
                },
                ["engines"] = engines,
                ["speed_up"] = r.SpeedUp,
            });
        }
        return new JsonObject
        {
            ["date"] = Date.ToString("O", Inv),
            ["command"] = Command,
            ["machine"] = new JsonObject
            {
                ["cpu"] = Machine.Cpu,
                ["isa"] = Machine.Isa,
                ["gemm_kernel"] = Machine.GemmKernel,
                ["logical_cores"] = Machine.LogicalCores,
                ["os"] = Machine.Os,
                ["dotnet"] = Machine.Dotnet,
                ["architecture"] = Machine.Architecture,
                ["torch"] = TorchVersion,
                ["libtorch"] = VersionOf("libtorch"),
            },
            ["settings"] = new JsonObject
            {
                ["device"] = Options.Device,
                ["threads"] = Options.Threads,
                ["repeats"] = Options.Repeats,
                ["steps"] = Options.Steps,
                ["warmup"] = Options.Warmup,
                ["against"] = Options.Against,
                ["compile"] = Options.Compile,
                ["loss"] = Options.Loss.ToString().ToLowerInvariant(),
                ["sgemm_gflops"] = Options.SgemmGflops,
            },
            ["flop_convention"] = FlopConvention,
            ["results"] = results,
            ["loss_share"] = new JsonArray(LossShares().Select(s => (JsonNode)new JsonObject
            {
                ["config"] = s.Config, ["engine"] = s.Engine, ["share"] = s.Share,
            }).ToArray()),
        };
    }

    private JsonObject Engine(PartResult r, Measurement m)
    {
        var o = new JsonObject
        {
            ["engine"] = m.Engine,
            ["available"] = m.Available,
            ["reason"] = m.Reason,
            ["device"] = m.Device,
            ["device_name"] = m.DeviceName,
            ["version"] = m.Version,
            ["threads"] = m.Threads,
            ["compiled"] = m.Compiled,
            ["command"] = m.Command,
            ["repeat_ms"] = new JsonArray(m.RepeatMs.Select(v => (JsonNode)v).ToArray()),
            ["step_ms"] = new JsonArray(m.StepMs.Select(v => (JsonNode)v).ToArray()),
            ["peak_working_set_mib"] = m.PeakWorkingSetMib,
        };
        if (m.Counters is not null)
            o["per_step"] = new JsonObject
            {
                ["managed_allocated_bytes"] = m.PerStep(c => c.AllocatedBytes),
                ["gc_gen0"] = m.PerStep(c => c.Gen0),
                ["gc_gen1"] = m.PerStep(c => c.Gen1),
                ["gc_gen2"] = m.PerStep(c => c.Gen2),
                ["thread_pool_work_items"] = m.PerStep(c => c.ThreadPoolItems),
                ["cpu_parallel_loops"] = m.PerStep(c => c.ParallelLoops),
                ["fresh_buffer_bytes"] = m.PerStep(c => c.FreshBufferBytes),
                ["voluntary_context_switches"] = m.PerStep(c => c.ContextSwitches),
            };
        if (m.Available)
        {
            o["median_ms"] = m.Median;
            o["p10_ms"] = m.P10;
            o["p90_ms"] = m.P90;
            o["spread_p90_p10"] = m.Spread;
            o["min_ms"] = m.StepMs.Min();
            o["max_ms"] = m.StepMs.Max();
            o["images_per_second"] = PartResult.ImagesPerSecond(r.Config, m);
            o["gflops"] = r.GflopsOf(m);
            o["sgemm_percent"] = Options.SgemmGflops is double s ? 100 * r.GflopsOf(m) / s : null;
            if (m.Engine != "blurvae") o["ratio_to_ours"] = r.RatioToOurs(m);
        }
        return o;
    }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void WriteJson(string path) => WriteFile(path, ToJson().ToJsonString(JsonOptions) + "\n");

    public void WriteMarkdown(string path) => WriteFile(path, ToMarkdown());

    private static void WriteFile(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        Io.AtomicFile.WriteAllText(path, text);
    }
}
