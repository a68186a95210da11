using System.Globalization;

namespace BlurVae.LibTorchBench;

/// <summary>
/// bench.py's command line, flag for flag (reference/pytorch/bench.py's parse), so `blurvae bench` passes both engines
/// the same arguments. What TorchSharp cannot do is refused with the reason: --device cuda (TorchSharp-cpu has no CUDA)
/// and --count-ops (no torch.profiler); --compile is accepted and runs eagerly (compiled=false), as bench.py does on a
/// torch without torch.compile.
/// </summary>
public sealed record BenchArguments
{
    public string Arch { get; init; } = "";
    public int ImageChannels { get; init; }
    public int Side { get; init; }
    public int[] Channels { get; init; } = [];
    public int Latent { get; init; }
    public int Kernel { get; init; }
    public int Batch { get; init; }
    public string Loss { get; init; } = "";
    public string Device { get; init; } = "";
    public int Threads { get; init; }
    public int Warmup { get; init; }
    public int Steps { get; init; }
    public string Part { get; init; } = "";
    public bool Compile { get; init; }
    public string Dtype { get; init; } = "float32";
    public int MlpHidden { get; init; } = 512;
    public int Seed { get; init; } = 1;
    /// <summary>--check FILE: run <see cref="CheckRun"/> on FILE's weights and data instead of timing.</summary>
    public string? Check { get; init; }

    public const string Usage =
        "usage: BlurVae.LibTorchBench --arch A|B --image-channels C --side S --channels 32,64,128,256 --latent L --kernel K\n" +
        "    --batch N --loss wiener|l2 --device cpu --threads T --warmup W --steps S --part step|loss\n" +
        "    [--compile] [--dtype float32|float64] [--mlp-hidden 512] [--seed 1] [--check FILE]\n" +
        "Times libtorch's (TorchSharp's) training step or loss as reference/pytorch/bench.py times PyTorch's; prints one JSON\n" +
        "object on stdout. --check FILE: no timing; FILE's weights and data, the losses of --steps steps (libtorch_check.py).\n" +
        "Build and prepare it with tools/libtorch-bench.sh.";

    private static readonly string[] Required =
        ["--arch", "--image-channels", "--side", "--channels", "--latent", "--kernel", "--batch", "--loss", "--device", "--threads", "--warmup", "--steps", "--part"];

    /// <summary>The parsed arguments; an <see cref="ArgumentException"/> names the flag and what it must be.</summary>
    public static BenchArguments Parse(IReadOnlyList<string> argv)
    {
        var values = new Dictionary<string, string>();
        bool compile = false;
        for (int i = 0; i < argv.Count; i++)
        {
            string flag = argv[i];
            if (flag == "--compile") { compile = true; continue; }
            if (flag == "--count-ops")
                throw new ArgumentException("--count-ops needs torch.profiler, which TorchSharp does not expose; use reference/pytorch/bench.py for operator counts.");
            if (!flag.StartsWith("--", StringComparison.Ordinal) || !Known.Contains(flag))
                throw new ArgumentException($"unrecognised argument '{flag}'");
            if (i + 1 >= argv.Count) throw new ArgumentException($"{flag} expects a value");
            values[flag] = argv[++i];
        }
        foreach (var r in Required)
            if (!values.ContainsKey(r)) throw new ArgumentException($"the following argument is required: {r}");

        int Int(string flag, int min)
        {
            if (!int.TryParse(values[flag], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new ArgumentException($"{flag} must be an integer, got '{values[flag]}'");
            if (v < min) throw new ArgumentException(min == 0 ? $"{flag} must be >= 0, got {v}" : $"{flag} must be positive, got {v}");
            return v;
        }
        string Choice(string flag, params string[] choices)
        {
            string v = values[flag];
            if (!choices.Contains(v)) throw new ArgumentException($"{flag} must be one of {string.Join(", ", choices)}, got '{v}'");
            return v;
        }
        int[] channels;
        try
        {
            channels = values["--channels"].Split(',').Where(c => c.Trim().Length > 0).Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--channels must be comma-separated integers, got '{values["--channels"]}'");
        }
        if (channels.Length == 0 || channels.Any(c => c < 1)) throw new ArgumentException($"--channels must list positive integers, got '{values["--channels"]}'");

        var a = new BenchArguments
        {
            Arch = values["--arch"].ToUpperInvariant(),
            ImageChannels = Int("--image-channels", 1),
            Side = Int("--side", 1),
            Channels = channels,
            Latent = Int("--latent", 1),
            Kernel = Int("--kernel", 1),
            Batch = Int("--batch", 1),
            Loss = Choice("--loss", "wiener", "l2"),
            Device = Choice("--device", "cpu", "cuda"),
            Threads = Int("--threads", 1),
            Warmup = Int("--warmup", 0),
            Steps = Int("--steps", 1),
            Part = Choice("--part", "step", "loss"),
            Compile = compile,
            Dtype = values.ContainsKey("--dtype") ? Choice("--dtype", "float32", "float64") : "float32",
            MlpHidden = values.ContainsKey("--mlp-hidden") ? Int("--mlp-hidden", 1) : 512,
            Seed = values.ContainsKey("--seed") ? Int("--seed", int.MinValue) : 1,
            Check = values.GetValueOrDefault("--check"),
        };
        if (a.Arch is not ("A" or "B")) throw new ArgumentException($"--arch must be A or B, got '{values["--arch"]}'");
        if (a.Device == "cuda") throw new ArgumentException("--device cuda: TorchSharp-cpu has no CUDA backend; this benchmark runs libtorch on the CPU only.");
        if (a.Kernel % 2 == 0 || a.Kernel > a.Side) throw new ArgumentException($"--kernel must be odd and at most --side ({a.Side}), got {a.Kernel}");
        if (a.Batch < 2 && a.Part == "step") throw new ArgumentException("--batch must be at least 2 for batch normalisation");
        return a;
    }

    private static readonly HashSet<string> Known = [.. Required, "--dtype", "--mlp-hidden", "--seed", "--check"];
}
