using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Models;

/// <summary>
/// The output of one VAE training forward pass: the encoder's statistics [N, 2·latent] (μ then log σ²), the latent z and
/// the KL term's batch mean (shape []).
/// </summary>
public sealed record VaeOutput(Tensor Reconstruction, Tensor Statistics, Tensor Z, Tensor Kl);

/// <summary>
/// A Gaussian VAE: the encoder gives μ and log σ², z = μ + σ·ε, the decoder maps z back to an image in [−1, 1].
/// Concrete architectures (A and B of the paper's appendix A) only build the encoder and decoder.
/// </summary>
public abstract class VaeModel : Module
{
    protected VaeModel(int channels, int side, int latent)
    {
        if (latent < 1) throw new ArgumentOutOfRangeException(nameof(latent), latent, "latent dimension must be positive");
        Channels = channels;
        Side = side;
        Latent = latent;
    }

    public int Channels { get; }
    public int Side { get; }
    public int Latent { get; }

    /// <summary>x[N, C, side, side] → the statistics [N, 2·latent]: μ then log σ² along axis 1 (what Run's latent op reads).</summary>
    public abstract Tensor EncodeStatistics(Tensor x);

    /// <summary>x[N, C, side, side] → (μ, log σ²), each [N, latent] (evaluation; one split op).</summary>
    public (Tensor Mu, Tensor LogVar) Encode(Tensor x) => EncodeStatistics(x).SplitHalves(axis: 1);

    /// <summary>z[N, latent] → x̂[N, C, side, side] in [−1, 1].</summary>
    public abstract Tensor Decode(Tensor z);

    /// <summary>z = μ + exp(½ log σ²)·ε with ε supplied by the caller (so runs are reproducible); one op (ReparameterizeFunction).</summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Tensor eps) => ReparameterizeFunction.Forward(mu, logVar, eps);

    /// <summary>
    /// The training forward: statistics, then z and the KL batch mean in one op (LatentFunction, one op each way in place
    /// of split, reparameterisation and KL), then the decoder.
    /// </summary>
    public VaeOutput Run(Tensor x, Tensor eps)
    {
        CheckInput(x);
        var stats = EncodeStatistics(x);
        var (z, kl) = LatentFunction.Forward(stats, eps, 1.0 / stats.Shape[0]);
        return new VaeOutput(Decode(z), stats, z, kl);
    }

    /// <summary>Reconstruction from a forward pass; the class's Module.Forward.</summary>
    public override Tensor Forward(Tensor x)
    {
        CheckInput(x);
        var (mu, _) = Encode(x);
        return Decode(mu);
    }

    protected void CheckInput(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != Channels || x.Shape[2] != Side || x.Shape[3] != Side)
            throw new ArgumentException($"{GetType().Name} expects input [N, {Channels}, {Side}, {Side}], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
    }

    /// <summary>
    /// The encoder trunk both architectures share: per channel-list entry Conv2d(k3, s2, p1) → BatchNorm2d → LeakyReLU(0.2).
    /// </summary>
    protected static Sequential DownsamplingEncoder(int imageChannels, int[] channels, Random rng, DType dtype, IBackend? backend)
    {
        var encoder = new Sequential();
        int cin = imageChannels;
        foreach (var c in channels)
        {
            encoder.Add(new Conv2d(cin, c, 3, rng, stride: 2, padding: 1, dtype: dtype, backend: backend));
            encoder.Add(new BatchNorm2d(c, dtype: dtype, backend: backend));
            encoder.Add(new LeakyReLU(0.2));
            cin = c;
        }
        return encoder;
    }

    /// <summary>log2 of a power-of-two side, or an error naming the flag that set it.</summary>
    protected static int Log2Side(int side)
    {
        if (side < 4 || (side & (side - 1)) != 0)
            throw new ArgumentException($"--side must be a power of two ≥ 4 (got {side}); 28×28 inputs are padded to 32.");
        return System.Numerics.BitOperations.Log2((uint)side);
    }
}
