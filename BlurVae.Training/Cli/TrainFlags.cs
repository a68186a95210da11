using System.CommandLine;
using System.Globalization;
using BlurVae.Training.Distributed;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>
/// The flags of `blurvae train`, one per TrainOptions property, with the defaults shown by --help. A JSON config
/// (--config) sets the same options by the same names; flags given on the command line override it.
/// </summary>
internal sealed class TrainFlags
{
    private static readonly TrainOptions D = new();

    public readonly Option<FileInfo?> Config = new("--config") { Description = "JSON file with any of these options (kebab-case keys, e.g. {\"epochs\": 5, \"loss\": \"l2\"}); flags override it" };
    public readonly Option<string> Data = new("--data") { Description = "Dataset: 'auto' (Debian's /usr/share/datasets/fashion-mnist if installed, else the embedded Fashion-MNIST subset), 'embedded', 'fashion-mnist', or a path: IDX file, CIFAR-10 folder, image folder, .nii/.nii.gz file or folder", DefaultValueFactory = _ => D.Data };
    public readonly Option<string> Arch = new("--arch") { Description = "Architecture A (paper's main) or B (appendix, table 4)", DefaultValueFactory = _ => "a" };
    public readonly Option<int> Side = new("--side") { Description = "Image side (power of two); 0 = the data's side padded up to a power of two (28 → 32)", DefaultValueFactory = _ => D.Side };
    public readonly Option<string> Channels = new("--channels") { Description = "Encoder channel list, e.g. 32,64,128,256 (one stride-2 block each); empty = architecture default ([64,128,256,512] cut to log2(side/4) blocks for A)", DefaultValueFactory = _ => "" };
    public readonly Option<double> Width = new("--width") { Description = "Multiplier of the default channel list", DefaultValueFactory = _ => D.Width };
    public readonly Option<int> Latent = new("--latent") { Description = "Latent dimension", DefaultValueFactory = _ => D.Latent };
    public readonly Option<int> MlpHidden = new("--mlp-hidden") { Description = "Hidden width of architecture A's encoder and decoder MLPs", DefaultValueFactory = _ => D.MlpHidden };
    public readonly Option<int> KernelSize = new("--kernel-size") { Description = "Side of the blur kernel G_γ predicts (odd); 0 = the paper's choice: 11 for sides up to 64, 41 above", DefaultValueFactory = _ => D.KernelSize };
    public readonly Option<string> Loss = new("--loss") { Description = "Reconstruction term: wiener (the method), l2, l1, bce, ffl (MSE + focal frequency), watson (Watson-DFT), vgg (LPIPS-VGG as a loss; needs --vgg-weights)", DefaultValueFactory = _ => "wiener" };
    public readonly Option<double> WienerC = new("--wiener-c") { Description = "Wiener constant C in F*(k)/(|F(k)|² + C)", DefaultValueFactory = _ => D.WienerC };
    public readonly Option<string> Eps = new("--eps") { Description = "ε of K + εI in the log-determinant; 'large' (default, the paper's best) treats the term as constant and skips it", DefaultValueFactory = _ => "large" };
    public readonly Option<bool> DetachKernel = new("--detach-kernel") { Description = "Ablation: no ELBO gradient through k = G_γ(z) into the encoder" };
    public readonly Option<string> FixedSigma = new("--fixed-sigma") { Description = "Ablation: a fixed Gaussian kernel of this σ instead of G_γ(z) ('none' = off)", DefaultValueFactory = _ => "none" };
    public readonly Option<double> FflWeight = new("--ffl-weight") { Description = "Weight of the focal frequency term relative to MSE (official autoencoder setting)", DefaultValueFactory = _ => D.FflWeight };
    public readonly Option<string?> VggWeights = new("--vgg-weights") { Description = "With --loss vgg: VGG16 features and LPIPS heads (safetensors from `python3 tools/export-weights.py lpips-vgg FILE` or deeploss-vgg)" };
    public readonly Option<double> Beta = new("--beta") { Description = "Weight β of the KL term", DefaultValueFactory = _ => D.Beta };
    public readonly Option<double> Lr = new("--lr") { Description = "Adam learning rate of the VAE", DefaultValueFactory = _ => D.Lr };
    public readonly Option<double> LrKernel = new("--lr-kernel") { Description = "Adam learning rate of the kernel generator G_γ", DefaultValueFactory = _ => D.LrKernel };
    public readonly Option<int> Epochs = new("--epochs") { Description = "Epochs to train (in total, counting those of a resumed run)", DefaultValueFactory = _ => D.Epochs };
    public readonly Option<int> WarmupEpochs = new("--warmup-epochs") { Description = "Epochs with Σ⁻¹ = I (plain MSE) before the Wiener term starts; G_γ trains from the start", DefaultValueFactory = _ => D.WarmupEpochs };
    public readonly Option<int> BatchSize = new("--batch-size") { Description = "Images per batch", DefaultValueFactory = _ => D.BatchSize };
    public readonly Option<int> Seed = new("--seed") { Description = "Seed of initialisation, split, shuffling and noise", DefaultValueFactory = _ => D.Seed };
    public readonly Option<int> MaxImages = new("--max-images") { Description = "Train on at most this many images (0 = all)", DefaultValueFactory = _ => D.MaxImages };
    public readonly Option<int> MaxTestImages = new("--max-test-images") { Description = "Evaluate on at most this many test images (0 = all)", DefaultValueFactory = _ => D.MaxTestImages };
    public readonly Option<string> Device = new("--device") { Description = "auto (the GPU when usable, else the CPU), cpu, cuda (without a usable GPU it says so and trains on the CPU) or emulated (the CUDA kernels on the host emulation: slow, for testing)", DefaultValueFactory = _ => D.Device };
    public readonly Option<string> Dtype = new("--dtype") { Description = "f32 or f64", DefaultValueFactory = _ => D.Dtype };
    public readonly Option<string> Precision = new("--precision") { Description = "Maths of the GPU's convolutions and matrix products: tf32 (tensor cores, FP32 accumulation; PyTorch's default for convolutions) or fp32 (strict FP32); the CPU always computes in FP32/FP64", DefaultValueFactory = _ => D.Precision };
    public readonly Option<bool> Verbose = new("--verbose") { Description = "Print the convolution algorithm (tile, maths, split-K, grid) the GPU chooses for each layer shape, and the stack trace of an error" };
    public readonly Option<bool> NoCudaGraph = new("--no-cuda-graph") { Description = "Run every step eagerly: no CUDA graph capture and replay of the step (on by default on a GPU where the capture succeeds)" };
    public readonly Option<string> Out = new("--out") { Description = "Run folder for checkpoint, metrics.jsonl, grids and plots", DefaultValueFactory = _ => D.Out };
    public readonly Option<int> GridImages = new("--grid-images") { Description = "Test images shown in the grids and tracked in the kernel figure (at most the test images)", DefaultValueFactory = _ => D.GridImages };
    public readonly Option<bool> Resume = new("--resume") { Description = $"Continue the run in --out from its checkpoint with its saved options; {string.Join(", ", ResumeChanges.Changeable.Where(n => n != "out").Order(StringComparer.Ordinal).Select(n => "--" + n))} may change (recorded in the log and metrics.jsonl), any other changed option is refused" };
    public readonly Option<int> Threads = new("--threads") { Description = "CPU threads of this process (per rank with --distributed); 0 = the cores divided among the ranks on this machine", DefaultValueFactory = _ => 0 };
    public readonly Option<bool> Distributed = new("--distributed") { Description = "Data-parallel training as one rank of an MPI job: mpirun -np N blurvae train --distributed …; --batch-size is the global batch, split evenly over the ranks" };
    public readonly Option<bool> SyncBn = new("--sync-bn") { Description = "With --distributed: batch normalisation with the global batch's statistics (default: each rank's own)" };
    public readonly Option<double> CollectiveTimeout = new("--collective-timeout") { Description = "With --distributed: seconds a collective may wait for the other ranks before the job is aborted naming them", DefaultValueFactory = _ => new DistributedOptions().CollectiveTimeoutSeconds };

    public TrainFlags()
    {
        Arch.AcceptOnlyFromAmong("a", "b", "A", "B");
        Loss.AcceptOnlyFromAmong("wiener", "l2", "l1", "bce", "ffl", "watson", "vgg");
        Device.AcceptOnlyFromAmong(BackendSelection.Devices);
        Dtype.AcceptOnlyFromAmong("f32", "f64");
        Precision.AcceptOnlyFromAmong(BlurVae.Kernels.MathPrecisions.Names);
    }

    public IEnumerable<Option> All() =>
    [
        Config, Data, Arch, Side, Channels, Width, Latent, MlpHidden, KernelSize, Loss, WienerC, Eps, DetachKernel, FixedSigma,
        FflWeight, VggWeights, Beta, Lr, LrKernel, Epochs, WarmupEpochs, BatchSize, Seed, MaxImages, MaxTestImages, Device, Dtype, Precision, Verbose, NoCudaGraph, Out, GridImages, Resume,
        Threads, Distributed, SyncBn, CollectiveTimeout,
    ];

    /// <summary>How the run is spread over processes: not part of the saved options, so a run resumes on any rank count.</summary>
    public DistributedOptions BindDistributed(ParseResult r) => new()
    {
        Enabled = r.GetValue(Distributed),
        SyncBn = r.GetValue(SyncBn),
        CollectiveTimeoutSeconds = r.GetValue(CollectiveTimeout),
    };

    /// <summary>The options: defaults, then the config file, then every flag given explicitly.</summary>
    public TrainOptions Bind(ParseResult r)
    {
        var o = new TrainOptions();
        if (r.GetValue(Config) is FileInfo file)
        {
            if (!file.Exists) throw new FileNotFoundException($"--config: '{file.FullName}' does not exist; pass the path of a JSON file of options.");
            o = TrainOptions.FromJson(File.ReadAllText(file.FullName), $"--config '{file.FullName}'");
        }
        T Pick<T>(Option<T> option, T current) => r.GetResult(option) is { Implicit: false } ? r.GetValue(option)! : current;
        // A flag whose text becomes another type (enums, lists, "large"/"none" or a number), parsed only when given.
        TOut Parse<TOut>(Option<string> option, Func<string, TOut> parse, TOut current) =>
            r.GetResult(option) is { Implicit: false } ? parse(r.GetValue(option)!) : current;
        return o with
        {
            Data = Pick(Data, o.Data),
            Arch = Parse(Arch, v => Enum.Parse<Architecture>(v, ignoreCase: true), o.Arch),
            Side = Pick(Side, o.Side),
            Channels = Parse(Channels, ParseChannels, o.Channels),
            Width = Pick(Width, o.Width),
            Latent = Pick(Latent, o.Latent),
            MlpHidden = Pick(MlpHidden, o.MlpHidden),
            KernelSize = Pick(KernelSize, o.KernelSize),
            Loss = Parse(Loss, v => Enum.Parse<LossKind>(v, ignoreCase: true), o.Loss),
            WienerC = Pick(WienerC, o.WienerC),
            Eps = Parse(Eps, v => ParseOptionalNumber(v, "large", "--eps"), o.Eps),
            DetachKernel = Pick(DetachKernel, o.DetachKernel),
            FixedSigma = Parse(FixedSigma, v => ParseOptionalNumber(v, "none", "--fixed-sigma"), o.FixedSigma),
            FflWeight = Pick(FflWeight, o.FflWeight),
            VggWeights = Pick(VggWeights, o.VggWeights),
            Beta = Pick(Beta, o.Beta),
            Lr = Pick(Lr, o.Lr),
            LrKernel = Pick(LrKernel, o.LrKernel),
            Epochs = Pick(Epochs, o.Epochs),
            WarmupEpochs = Pick(WarmupEpochs, o.WarmupEpochs),
            BatchSize = Pick(BatchSize, o.BatchSize),
            Seed = Pick(Seed, o.Seed),
            MaxImages = Pick(MaxImages, o.MaxImages),
            MaxTestImages = Pick(MaxTestImages, o.MaxTestImages),
            Device = Pick(Device, o.Device),
            Dtype = Pick(Dtype, o.Dtype),
            Precision = Pick(Precision, o.Precision),
            Verbose = Pick(Verbose, o.Verbose),
            NoCudaGraph = Pick(NoCudaGraph, o.NoCudaGraph),
            Out = Pick(Out, o.Out),
            GridImages = Pick(GridImages, o.GridImages),
        };
    }

    /// <summary>
    /// The options the user set, by their kebab-case names: flags given on the command line and keys of the --config
    /// file (what `--resume` compares with the saved run).
    /// </summary>
    public IReadOnlySet<string> GivenNames(ParseResult r)
    {
        var names = All().Where(o => o != Config && o != Resume && r.GetResult(o) is { Implicit: false })
            .Select(o => o.Name.TrimStart('-')).ToHashSet();
        if (r.GetValue(Config) is FileInfo file && System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file.FullName)) is System.Text.Json.Nodes.JsonObject json)
            names.UnionWith(json.Select(kv => kv.Key));
        return names;
    }

    internal static int[] ParseChannels(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var list = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out list[i]) || list[i] < 1)
                throw new ArgumentException($"--channels: '{parts[i]}' is not a positive integer (expected a list like 32,64,128,256).");
        return list;
    }

    internal static double? ParseOptionalNumber(string text, string offWord, string flag)
    {
        if (string.Equals(text, offWord, StringComparison.OrdinalIgnoreCase)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)) return v;
        throw new ArgumentException($"{flag}: '{text}' is neither '{offWord}' nor a positive number.");
    }
}
