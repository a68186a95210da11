using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace BlurVae.Training.Train;

public enum Architecture { A, B }

/// <summary>The reconstruction term. Wiener is the paper's method; the others are its baselines.</summary>
public enum LossKind { Wiener, L2, L1, Bce, Ffl, Watson, Vgg }

/// <summary>
/// Every setting of a training run. The CLI flags, the JSON config file (same names in kebab-case) and the
/// checkpoint's metadata all map onto this one record, so a resumed run continues with exactly its settings.
/// Defaults are the paper's (section 4.2, appendix A) except the epoch count, which suits a CPU.
/// </summary>
public sealed record TrainOptions
{
    public string Data { get; init; } = "auto";
    public Architecture Arch { get; init; } = Architecture.A;
    /// <summary>Input side after padding/resizing (0 = from the data, padded up to a power of two).</summary>
    public int Side { get; init; }
    /// <summary>Encoder channel list; empty = the architecture's default for the side.</summary>
    public int[] Channels { get; init; } = [];
    public double Width { get; init; } = 1.0;
    public int Latent { get; init; } = 256;
    public int MlpHidden { get; init; } = 512;
    /// <summary>Side of the predicted kernel; 0 = the paper's choice for the image side (see <see cref="EffectiveKernelSize"/>).</summary>
    public int KernelSize { get; init; }
    public LossKind Loss { get; init; } = LossKind.Wiener;
    /// <summary>The Wiener constant C (paper: robust for C ≤ 0.025).</summary>
    public double WienerC { get; init; } = 0.025;
    /// <summary>ε of K + εI in the log-determinant; null = "large ε": the term is constant and skipped (the paper's best).</summary>
    public double? Eps { get; init; }
    public bool DetachKernel { get; init; }
    /// <summary>Fixed-Σ ablation: a Gaussian kernel of this σ instead of G_γ(z).</summary>
    public double? FixedSigma { get; init; }
    /// <summary>Weight of the focal frequency term added to MSE (the official autoencoder setting uses 100).</summary>
    public double FflWeight { get; init; } = 100;
    /// <summary>--loss vgg: VGG16 features and LPIPS heads (safetensors, tools/export-weights.py lpips-vgg or deeploss-vgg).</summary>
    public string? VggWeights { get; init; }
    public double Beta { get; init; } = 1.0;
    public double Lr { get; init; } = 1e-4;
    public double LrKernel { get; init; } = 1e-4;
    public int Epochs { get; init; } = 20;
    public int WarmupEpochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    public int Seed { get; init; } = 1;
    /// <summary>Use at most this many training images (0 = all): quick runs and smoke tests.</summary>
    public int MaxImages { get; init; }
    /// <summary>Evaluate on at most this many test images (0 = all): quick runs, and the slow emulated device.</summary>
    public int MaxTestImages { get; init; }
    public string Device { get; init; } = "auto";
    public string Dtype { get; init; } = "f32";
    /// <summary>--precision of the GPU's convolutions and GEMMs: "tf32" (tensor cores, PyTorch's default) or "fp32".</summary>
    public string Precision { get; init; } = "tf32";
    /// <summary>--verbose: print the convolution algorithm chosen per layer shape. Not saved with the run.</summary>
    [JsonIgnore] public bool Verbose { get; init; }
    /// <summary>--no-cuda-graph: every step eagerly, no CUDA graph capture and replay. Not saved with the run.</summary>
    [JsonIgnore] public bool NoCudaGraph { get; init; }
    public string Out { get; init; } = "runs/latest";
    /// <summary>Images shown in grids and whose kernels are tracked per epoch (Figure 2).</summary>
    public int GridImages { get; init; } = 8;

    /// <summary>The kernel side for images of this side: --kernel-size, or by default 11 up to 64×64 and 41 above (the paper's settings).</summary>
    public int EffectiveKernelSize(int side) => KernelSize > 0 ? KernelSize : side <= 64 ? 11 : 41;

    /// <summary>
    /// Options for exactly one small model that trains in the steady state from its first step (no warm-up epochs, so
    /// the Wiener term with k = G_γ(z) is on at once), the paper's defaults for everything else: what the step
    /// benchmark and the selftest's training-step check both build their trainers from.
    /// </summary>
    public static TrainOptions SteadyStateModel(int side, int[] channels, int latent, int mlpHidden, int kernelSize, LossKind loss, int batch, int seed) => new()
    {
        Side = side,
        Channels = channels,
        Latent = latent,
        MlpHidden = mlpHidden,
        KernelSize = kernelSize,
        Loss = loss,
        WarmupEpochs = 0,
        BatchSize = batch,
        Seed = seed,
    };

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Reads a JSON config; invalid JSON, a non-object, unknown keys and values of the wrong type are UserErrors naming
    /// <paramref name="source"/> and the key, with what would fix them.
    /// </summary>
    public static TrainOptions FromJson(string json, string source)
    {
        const string Fix = "the file must be one JSON object of `blurvae train` options by their kebab-case names, e.g. {\"epochs\": 5, \"loss\": \"l2\"}";
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UserError($"{source} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}); {Fix}.", e);
        }
        if (node is not JsonObject obj)
            throw new UserError($"{source} holds {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}, not an object; {Fix}.");
        var known = typeof(TrainOptions).GetProperties().Where(p => !p.IsDefined(typeof(JsonIgnoreAttribute), inherit: false)).ToDictionary(p => Json.PropertyNamingPolicy!.ConvertName(p.Name), p => p.PropertyType);
        foreach (var (key, _) in obj)
            if (!known.ContainsKey(key))
                throw new UserError($"{source}: unknown key '{key}'; the keys are {string.Join(", ", known.Keys)}.");
        try
        {
            return obj.Deserialize<TrainOptions>(Json)!;
        }
        catch (JsonException e)
        {
            string key = e.Path is { } path ? path.TrimStart('$', '.') : "";
            string expected = known.TryGetValue(key, out var type) ? Describe(type) : "another type";
            throw new UserError($"{source}: key '{key}' has the value {obj[key]?.ToJsonString() ?? "null"}, but it must be {expected}.", e);
        }
    }

    private static string Describe(Type type) =>
        Nullable.GetUnderlyingType(type) is { } inner ? Describe(inner) + " or null"
        : type == typeof(int) ? "an integer"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(string) ? "a string"
        : type == typeof(int[]) ? "a list of integers like [32, 64]"
        : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{n.ToLowerInvariant()}\""))
        : type.Name;

    /// <summary>Checks ranges and contradictions; messages name the flag.</summary>
    public void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new UserError(message);
        }
        // NaN fails every comparison, so "v > 0" alone would let it through; infinities are refused by name too.
        void RequireFinite(double value, string flag, bool allowZero = false) =>
            Require(double.IsFinite(value) && (value > 0 || (allowZero && value == 0)),
                $"{flag} must be a finite number {(allowZero ? "≥ 0" : "> 0")} (got {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        Require(Epochs >= 1, $"--epochs must be at least 1 (got {Epochs}).");
        Require(WarmupEpochs >= 0, $"--warmup-epochs must be ≥ 0 (got {WarmupEpochs}).");
        Require(BatchSize >= 2, $"--batch-size must be at least 2 for batch normalisation (got {BatchSize}).");
        Require(Latent >= 1, $"--latent must be positive (got {Latent}).");
        Require(MlpHidden >= 1, $"--mlp-hidden must be positive (got {MlpHidden}).");
        Require(KernelSize == 0 || (KernelSize >= 1 && KernelSize % 2 == 1), $"--kernel-size must be a positive odd number, or 0 for the default (got {KernelSize}).");
        RequireFinite(Width, "--width");
        Require(Side == 0 || (Side >= 4 && (Side & (Side - 1)) == 0), $"--side must be a power of two ≥ 4 (got {Side}).");
        Require(Side == 0 || EffectiveKernelSize(Side) <= Side, KernelSize > 0
            ? $"--kernel-size {KernelSize} is larger than --side {Side}; pass an odd --kernel-size of at most {Side - 1} or a larger --side."
            : $"--side {Side} is smaller than the default blur kernel ({EffectiveKernelSize(Side)}×{EffectiveKernelSize(Side)}); pass --side 16 or more, or an odd --kernel-size of at most {Side - 1}.");
        RequireFinite(WienerC, "--wiener-c");
        if (Eps is { } eps) RequireFinite(eps, "--eps");
        if (FixedSigma is { } sigma) RequireFinite(sigma, "--fixed-sigma");
        RequireFinite(FflWeight, "--ffl-weight", allowZero: true);
        RequireFinite(Beta, "--beta", allowZero: true);
        RequireFinite(Lr, "--lr");
        RequireFinite(LrKernel, "--lr-kernel");
        Require(MaxImages >= 0, $"--max-images must be ≥ 0 (got {MaxImages}).");
        Require(MaxTestImages >= 0, $"--max-test-images must be ≥ 0 (got {MaxTestImages}).");
        Require(Channels.All(c => c >= 1), "--channels must list positive channel counts.");
        Require(BackendSelection.Devices.Contains(Device), $"--device must be one of {string.Join(", ", BackendSelection.Devices)} (got '{Device}').");
        Require(Dtype is "f32" or "f64", $"--dtype must be f32 or f64 (got '{Dtype}').");
        Require(MathPrecisions.Names.Contains(Precision), $"--precision must be tf32 or fp32 (got '{Precision}').");
        Require(!(Dtype == "f64" && Device is "cuda" or "emulated"), $"--dtype f64 needs --device cpu or auto: the CUDA kernels behind --device {Device} are float32.");
        Require(GridImages >= 1, $"--grid-images must be positive (got {GridImages}).");
        // Contradictions: options of the method only make sense with the method's loss.
        if (Loss != LossKind.Wiener)
        {
            Require(Eps is null, $"--eps sets the log-determinant of the Wiener likelihood; it contradicts --loss {Loss.ToString().ToLowerInvariant()}.");
            Require(FixedSigma is null, $"--fixed-sigma is an ablation of the Wiener loss; it contradicts --loss {Loss.ToString().ToLowerInvariant()}.");
            Require(!DetachKernel, $"--detach-kernel is an ablation of the Wiener loss; it contradicts --loss {Loss.ToString().ToLowerInvariant()}.");
        }
        Require(Loss != LossKind.Vgg || !string.IsNullOrWhiteSpace(VggWeights),
            "--loss vgg needs --vgg-weights FILE: VGG16's features and the LPIPS linear heads as safetensors, written by `python3 tools/export-weights.py lpips-vgg FILE` " +
            "(or deeploss-vgg, the paper's heads) where torchvision and the lpips package are installed.");
        Require(Loss == LossKind.Vgg || VggWeights is null,
            $"--vgg-weights sets the weights of the VGG loss; it contradicts --loss {Loss.ToString().ToLowerInvariant()}: drop it, or pass --loss vgg.");
        Require(!(FixedSigma is not null && DetachKernel), "--fixed-sigma uses a constant kernel, so --detach-kernel has nothing to detach.");
        Require(!(FixedSigma is not null && Eps is not null), "--fixed-sigma makes the log-determinant a constant; drop --eps.");
    }
}
