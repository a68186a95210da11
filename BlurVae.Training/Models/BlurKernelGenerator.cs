using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Models;

/// <summary>
/// G_γ(z): the per-image blur kernel. Linear(latent, 1000) → ReLU6 → Linear(1000, k²) → softmax over the k² outputs,
/// reshaped to [N, k, k]: positive with unit sum, as a blur kernel must be (section 3.3).
/// </summary>
public sealed class BlurKernelGenerator : Module
{
    private readonly Linear _hidden, _output;

    public BlurKernelGenerator(int latent, int kernelSize, Random rng, int hidden = 1000, DType dtype = DType.Float32, IBackend? backend = null)
    {
        if (kernelSize < 1 || kernelSize % 2 == 0)
            throw new ArgumentException($"--kernel-size must be a positive odd number (got {kernelSize}) so the kernel has a centre.");
        KernelSize = kernelSize;
        _hidden = RegisterModule("hidden", new Linear(latent, hidden, rng, dtype: dtype, backend: backend));
        _output = RegisterModule("output", new Linear(hidden, kernelSize * kernelSize, rng, dtype: dtype, backend: backend));
    }

    public int KernelSize { get; }

    /// <summary>z[N, latent] → k[N, k, k].</summary>
    public override Tensor Forward(Tensor z) =>
        _output.Forward(_hidden.ForwardActivation(z, UnaryOp.Relu6)).Softmax().Reshape(z.Shape[0], KernelSize, KernelSize);

    /// <summary>A normalised Gaussian kernel of standard deviation sigma: the fixed-Σ ablation of table 1.</summary>
    public static Tensor Gaussian(int batch, int kernelSize, double sigma, DType dtype = DType.Float32, IBackend? backend = null)
    {
        if (sigma <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "--fixed-sigma must be positive");
        int c = kernelSize / 2;
        var k = new double[kernelSize * kernelSize];
        double sum = 0;
        for (int u = 0; u < kernelSize; u++)
            for (int v = 0; v < kernelSize; v++)
                sum += k[u * kernelSize + v] = Math.Exp(-((u - c) * (u - c) + (v - c) * (v - c)) / (2 * sigma * sigma));
        var all = new double[batch * k.Length];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < k.Length; i++) all[b * k.Length + i] = k[i] / sum;
        return Tensor.FromArray(all, [batch, kernelSize, kernelSize], dtype, backend);
    }
}
