using System.Collections.Concurrent;

namespace BlurVae.Training.Losses;

/// <summary>
/// The Watson-DFT distance of one image channel (Czolbe et al., NeurIPS 2020, the reference's WatsonDistanceFft), built
/// from differentiable ops. Per b×b block k and rfft coefficient (u, v), with c = rfft2(block) / b² of the target x
/// (c⁰) and the reconstruction x̂ (c¹), ε = 1e-10:
/// <list type="bullet">
/// <item>amplitudes |c| = √((Re c + ε)² + (Im c + ε)²);</item>
/// <item>luminance masking: t_L[n,k,u,v] = t[u,v] · ((|c⁰[n,k,0,0]| + ε) / (L̄ + ε))^α, with L̄ the mean DC amplitude
///   of the target over the whole batch and all blocks;</item>
/// <item>contrast masking: s = softmax-weighted maximum of t_L and m = (|c⁰| + ε)^w · t_L^(1−w):
///   s = (t_L e^{t_L} + m e^{m}) / (e^{t_L} + e^{m});</item>
/// <item>pooling: D_W[n] = (Σ_{k,u,v} ((| |c⁰| − |c¹| | / s) + ε)^β + ε)^(1/β);</item>
/// <item>phase: D_φ[n] = Σ_{k,u,v} w_φ[u,v] · acos(cos(φ⁰ − φ¹) · (1 − 10⁻⁷)), φ = atan2(Im c, Re c + ε), the factor
///   keeping acos' gradient finite, w_φ zero on the four real coefficients;</item>
/// </list>
/// and returns D_W + D_φ per sample, [N].
/// </summary>
internal static class WatsonDftChannel
{
    public const double Eps = 1e-10;

    // The reference multiplies the cosine by 1 − EPS·10³ before acos.
    private const double AcosShrink = 1 - Eps * 1e3;

    // The DFT matrices per block size (built once; read-only afterwards).
    private static readonly ConcurrentDictionary<int, (double[] Re, double[] Im)> MatrixCache = new();

    /// <summary>target, input: [N, 1, H, W] in [0, 1], H and W multiples of the block size. Returns [N].</summary>
    public static Tensor Distances(Tensor target, Tensor input, WatsonParameters p)
    {
        int n = target.Shape[0], b = p.BlockSize, rows = p.Rows, cols = p.Cols;
        int blocks = target.Shape[2] / b * (target.Shape[3] / b);
        var (re0, im0) = BlockSpectrum(target, b, n, blocks);
        var (re1, im1) = BlockSpectrum(input, b, n, blocks);

        var amp0 = Amplitude(re0, im0);
        var amp1 = Amplitude(re1, im1);

        // Luminance masking: each block's DC amplitude relative to the batch mean scales the sensitivities.
        var dc0 = amp0.Narrow(2, 0, 1).Narrow(3, 0, 1); // [N, K, 1, 1]
        var avgLum = dc0.Mean();
        var sensitivity = Tensor.FromArray(p.Sensitivities(), [rows, cols], target.DType, target.Backend);
        var tL = sensitivity * ((dc0 + Eps) / (avgLum + Eps)).Pow(p.Alpha); // [N, K, rows, cols]

        // Contrast masking: a smooth maximum of the threshold and the masked amplitude.
        double w = p.W;
        var masked = (amp0 + Eps).Pow(w) * tL.Pow(1 - w);
        var s = SoftMaximum(tL, masked);

        // Pooling of the amplitude errors with exponent β.
        var pooled = ((((amp0 - amp1) / s).Abs() + Eps).Pow(p.Beta) + Eps).Sum([1, 2, 3]);
        var watson = pooled.Pow(1 / p.Beta); // [N]

        // Phase: the angle between the coefficients, weighted per frequency.
        var phase0 = Atan2Function.Forward(im0, re0 + Eps);
        var phase1 = Atan2Function.Forward(im1, re1 + Eps);
        var angle = AcosFunction.Forward(CosFunction.Forward(phase0 - phase1) * AcosShrink);
        var phaseWeights = Tensor.FromArray(p.PhaseWeights(), [rows, cols], target.DType, target.Backend);
        var phase = (angle * phaseWeights).Sum([1, 2, 3]); // [N]

        return watson + phase;
    }

    /// <summary>
    /// [N, 1, H, W] → real and imaginary parts of rfft2(block) / b², each [N, K, b, b/2+1]. The DFT of a b×b block is a
    /// linear map of its b² pixels, so both parts are one matrix product each with fixed DFT matrices: much faster than
    /// thousands of tiny FFTs, and the same arithmetic on any backend.
    /// </summary>
    private static (Tensor Re, Tensor Im) BlockSpectrum(Tensor image, int b, int n, int blocks)
    {
        int cols = b / 2 + 1;
        var (reMatrix, imMatrix) = MatrixCache.GetOrAdd(b, DftMatrices);
        var pixels = BlockUnfoldFunction.Forward(image, b).Reshape(n * blocks, b * b);
        var re = pixels.MatMul(Tensor.FromArray(reMatrix, [b * b, b * cols], image.DType, image.Backend)).Reshape(n, blocks, b, cols);
        var im = pixels.MatMul(Tensor.FromArray(imMatrix, [b * b, b * cols], image.DType, image.Backend)).Reshape(n, blocks, b, cols);
        return (re, im);
    }

    /// <summary>
    /// Row (y·b + x) → column (u·(b/2+1) + v) matrices of c[u, v] = (1/b²) Σ_{y,x} f[y, x] e^{−2πi(u·y + v·x)/b}:
    /// the real part takes cos, the imaginary part −sin.
    /// </summary>
    private static (double[] Re, double[] Im) DftMatrices(int b)
    {
        int cols = b / 2 + 1, width = b * cols;
        var re = new double[b * b * width];
        var im = new double[b * b * width];
        double scale = 1.0 / (b * b);
        for (int y = 0; y < b; y++)
            for (int x = 0; x < b; x++)
                for (int u = 0; u < b; u++)
                    for (int v = 0; v < cols; v++)
                    {
                        var (cos, sin) = UnitRoot((u * y + v * x) % b, b);
                        int at = (y * b + x) * width + u * cols + v;
                        re[at] = scale * cos;
                        im[at] = -scale * sin;
                    }
        return (re, im);
    }

    /// <summary>
    /// (cos, sin) of 2πk/b, exact at the quarter turns (where Math.Sin(π) is 1.2e-16, not 0), so the four purely real
    /// coefficients of a block get an imaginary part of exactly 0, as from an FFT.
    /// </summary>
    private static (double Cos, double Sin) UnitRoot(int k, int b)
    {
        if (4 * k % b == 0)
            return (4 * k / b) switch { 0 => (1, 0), 1 => (0, 1), 2 => (-1, 0), _ => (0, -1) };
        double angle = 2 * Math.PI * k / b;
        return (Math.Cos(angle), Math.Sin(angle));
    }

    // torch.norm(c + EPS) over the (re, im) pair: ε is added to both parts.
    private static Tensor Amplitude(Tensor re, Tensor im) => ((re + Eps).Square() + (im + Eps).Square()).Sqrt();

    /// <summary>
    /// a·softmax(a, b)₀ + b·softmax(a, b)₁ elementwise. softmax(a, b)₁ = e^b / (e^a + e^b) = sigmoid(b − a), so this is
    /// a + (b − a)·sigmoid(b − a): the same value, stable for large arguments, with elementwise ops only.
    /// </summary>
    private static Tensor SoftMaximum(Tensor a, Tensor b)
    {
        var d = b - a;
        return a + d * d.Sigmoid();
    }
}
