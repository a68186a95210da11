using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BlurVae.LibTorchBench;

/// <summary>
/// reference/pytorch/models.py in TorchSharp: architectures A and B and the kernel generator G_γ, layer for layer, with
/// the same module names (fields registered by name, Sequential children "0", "1", …), so the parameter lists and
/// counts equal PyTorch's and BlurVae's. Initialisation is libtorch's default.
/// </summary>
public abstract class Vae : Module<Tensor, Tensor>
{
    protected Vae(string name) : base(name) { }

    public abstract (Tensor Mu, Tensor LogVar) Encode(Tensor x);
    public abstract Tensor Decode(Tensor z);

    /// <summary>z = μ + exp(½ log σ²)·ε, x̂ = decode(z).</summary>
    public (Tensor XHat, Tensor Mu, Tensor LogVar, Tensor Z) Run(Tensor x, Tensor eps)
    {
        var (mu, logvar) = Encode(x);
        var z = mu + torch.exp(0.5 * logvar) * eps;
        return (Decode(z), mu, logvar, z);
    }

    public override Tensor forward(Tensor x) => Decode(Encode(x).Mu);

    public static Vae Build(string arch, int imageChannels, int side, int latent, int[] channels, int mlpHidden) => arch switch
    {
        "A" => new ArchitectureA(imageChannels, side, latent, channels, mlpHidden),
        "B" => new ArchitectureB(imageChannels, side, latent, channels),
        _ => throw new ArgumentException($"--arch must be A or B (got {arch})"),
    };

    /// <summary>Conv(stride 2) → BatchNorm → LeakyReLU(0.2) per channel count.</summary>
    protected static Sequential DownsamplingEncoder(int imageChannels, int[] channels)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int cin = imageChannels;
        foreach (int c in channels)
        {
            layers.Add(Conv2d(cin, c, 3, stride: 2, padding: 1));
            layers.Add(BatchNorm2d(c));
            layers.Add(LeakyReLU(0.2));
            cin = c;
        }
        return Sequential(layers);
    }

    /// <summary>
    /// Per channel count in reverse, the architecture's ×2 upsampling to the next count (the last block keeps its
    /// count) → BatchNorm → LeakyReLU(0.2); then Conv 3×3 to the image channels → Tanh.
    /// </summary>
    protected static Sequential UpsamplingDecoder(int imageChannels, int[] channels, Func<int, int, Module<Tensor, Tensor>[]> upsample)
    {
        var rev = channels.Reverse().ToArray();
        var layers = new List<Module<Tensor, Tensor>>();
        for (int i = 0; i < rev.Length; i++)
        {
            int cout = i + 1 < rev.Length ? rev[i + 1] : rev[i];
            layers.AddRange(upsample(rev[i], cout));
            layers.Add(BatchNorm2d(cout));
            layers.Add(LeakyReLU(0.2));
        }
        layers.Add(Conv2d(rev[^1], imageChannels, 3, stride: 1, padding: 1));
        layers.Add(Tanh());
        return Sequential(layers);
    }

    /// <summary>The encoder's [N, 2·latent] statistics split into μ and log σ².</summary>
    protected static (Tensor Mu, Tensor LogVar) Split(Tensor stats)
    {
        var halves = stats.chunk(2, 1);
        return (halves[0], halves[1]);
    }

    protected static int Log2Side(int side)
    {
        if (side < 4 || (side & (side - 1)) != 0) throw new ArgumentException($"--side must be a power of two >= 4 (got {side})");
        return System.Numerics.BitOperations.Log2((uint)side);
    }
}

public sealed class ArchitectureA : Vae
{
    private readonly Sequential encoder, encoder_mlp, decoder_mlp, decoder;
    private readonly int _cn, _s;

    public ArchitectureA(int imageChannels, int side, int latent, int[] channels, int mlpHidden = 512) : base(nameof(ArchitectureA))
    {
        int blocks = channels.Length;
        if ((side >> blocks) < 1 || side % (1 << blocks) != 0) throw new ArgumentException($"{blocks} stride-2 blocks do not divide a {side}x{side} input");
        Log2Side(side);
        _cn = channels[^1];
        _s = side >> blocks;
        int flat = _cn * _s * _s;
        encoder = DownsamplingEncoder(imageChannels, channels);
        encoder_mlp = Sequential(Linear(flat, mlpHidden), LeakyReLU(0.2), Linear(mlpHidden, 2 * latent));
        decoder_mlp = Sequential(Linear(latent, mlpHidden), LeakyReLU(0.2), Linear(mlpHidden, flat), LeakyReLU(0.2));
        decoder = UpsamplingDecoder(imageChannels, channels, (cin, cout) => [ConvTranspose2d(cin, cout, 4, stride: 2, padding: 1)]);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) Encode(Tensor x) => Split(encoder_mlp.forward(encoder.forward(x).flatten(1)));

    public override Tensor Decode(Tensor z) => decoder.forward(decoder_mlp.forward(z).reshape(z.shape[0], _cn, _s, _s));
}

public sealed class ArchitectureB : Vae
{
    private readonly Sequential encoder, decoder;
    private readonly Linear to_stats, from_latent;
    private readonly int _cn, _s;

    public ArchitectureB(int imageChannels, int side, int latent, int[] channels) : base(nameof(ArchitectureB))
    {
        Log2Side(side);
        int blocks = channels.Length;
        if ((side >> blocks) < 1) throw new ArgumentException($"{blocks} stride-2 blocks do not fit a {side}x{side} input");
        _cn = channels[^1];
        _s = side >> blocks;
        int flat = _cn * _s * _s;
        encoder = DownsamplingEncoder(imageChannels, channels);
        to_stats = Linear(flat, 2 * latent);
        from_latent = Linear(latent, flat);
        decoder = UpsamplingDecoder(imageChannels, channels, (cin, cout) =>
            [Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Bilinear, align_corners: false), Conv2d(cin, cout, 3, stride: 1, padding: 1)]);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) Encode(Tensor x) => Split(to_stats.forward(encoder.forward(x).flatten(1)));

    public override Tensor Decode(Tensor z) => decoder.forward(from_latent.forward(z).reshape(z.shape[0], _cn, _s, _s));
}

/// <summary>G_γ(z): Linear(latent, 1000) → ReLU6 → Linear(1000, k²) → softmax → [N, k, k].</summary>
public sealed class KernelGenerator : Module<Tensor, Tensor>
{
    private readonly Linear hidden, output;
    private readonly int _k;

    public KernelGenerator(int latent, int kernelSize, int hiddenWidth = 1000) : base(nameof(KernelGenerator))
    {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentException($"--kernel must be a positive odd number (got {kernelSize})");
        _k = kernelSize;
        hidden = Linear(latent, hiddenWidth);
        output = Linear(hiddenWidth, kernelSize * kernelSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z) =>
        torch.softmax(output.forward(functional.relu6(hidden.forward(z))), 1).reshape(z.shape[0], _k, _k);
}
