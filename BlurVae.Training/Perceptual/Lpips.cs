namespace BlurVae.Training.Perceptual;

/// <summary>
/// LPIPS v0.1 (Zhang et al., CVPR 2018; the lpips package with lpips=True, spatial=False) in our engine, so it
/// runs on every backend and differentiates (the VGG loss is LPIPS-VGG as a reconstruction term):
/// <code>
///   d(x0, x1) = Σ_l 1/(H_l·W_l) Σ_{h,w} Σ_c w_{l,c} · (ŷ0_{l,c,h,w} − ŷ1_{l,c,h,w})²,
///   ŷ_l = f_l / (‖f_l‖₂ over channels + 1e-10),
/// </code>
/// f_l the network's l-th tap of the ScalingLayer-normalised image (<see cref="PerceptualInput.Lpips"/>) and w_l ≥ 0
/// the learned 1×1 linear head of layer l (lin0 … lin4). The one departure: the channel norm is
/// √(Σ_c f² + 1e-20), so that an all-zero feature vector (every ReLU off at a pixel) has a finite gradient (in
/// PyTorch, √ at 0 gives 0·∞ = NaN); the values differ from the formula by at most 1e-20/(2‖f‖) relative.
/// </summary>
public sealed class Lpips
{
    /// <summary>The lpips package's ε of normalize_tensor.</summary>
    public const double NormEpsilon = 1e-10;

    private readonly Tensor[] _heads;

    /// <param name="heads">One non-negative weight per channel of each tap (lin0 … lin4).</param>
    public Lpips(FeatureNetwork network, IReadOnlyList<double[]> heads)
    {
        if (heads.Count != network.TapLayers.Count)
            throw new ArgumentException($"LPIPS on {network.Name} needs {network.TapLayers.Count} heads (got {heads.Count}).");
        _heads = new Tensor[heads.Count];
        for (int l = 0; l < heads.Count; l++)
        {
            if (heads[l].Length != network.TapChannels[l])
                throw new ArgumentException($"LPIPS head lin{l} has {heads[l].Length} weights; tap {l} of {network.Name} has {network.TapChannels[l]} channels.");
            _heads[l] = Tensor.FromArray(heads[l], [heads[l].Length, 1], network.DType, network.Backend);
        }
        Network = network;
    }

    public FeatureNetwork Network { get; }

    /// <summary>"alex" or "vgg".</summary>
    public string Variant => Network is AlexNetFeatures ? "alex" : "vgg";

    /// <summary>The metric's name in tables: lpips-alex or lpips-vgg.</summary>
    public string Name => "lpips-" + Variant;

    /// <summary>The taps of images in [−1, 1] ([N, 1 or 3, H, W]).</summary>
    public List<Tensor> Features(Tensor x) => Network.Taps(PerceptualInput.Lpips(x));

    /// <summary>The per-image distance [N] between two batches of images in [−1, 1]; differentiable in both.</summary>
    public Tensor Distance(Tensor x0, Tensor x1) => Distance(Features(x0), Features(x1));

    /// <summary>The per-image distance [N] between the taps of two batches (<see cref="Features"/>).</summary>
    public Tensor Distance(IReadOnlyList<Tensor> taps0, IReadOnlyList<Tensor> taps1)
    {
        Tensor? total = null;
        for (int l = 0; l < _heads.Length; l++)
        {
            var squared = (UnitNormalize(taps0[l]) - UnitNormalize(taps1[l])).Square();
            // Σ_c w_c · mean_{h,w}: the spatial mean first, then the head as a [C, 1] matrix product.
            var layer = squared.Mean([2, 3]).MatMul(_heads[l]);
            total = total is null ? layer : total + layer;
        }
        return total!.Reshape(taps0[0].Shape[0]);
    }

    /// <summary>f / (√(Σ_c f² + ε²) + ε) over the channel axis of [N, C, H, W].</summary>
    public static Tensor UnitNormalize(Tensor features)
    {
        var norm = (features.Square().Sum([1], keepDims: true) + NormEpsilon * NormEpsilon).Sqrt();
        return features / (norm + NormEpsilon);
    }

    /// <summary>Why LPIPS on this network cannot score images of this side, or null when it can.</summary>
    public string? NotApplicable(int side) =>
        Network is AlexNetFeatures && side < AlexNetFeatures.MinimumSide ? $"LPIPS-Alex needs images of at least {AlexNetFeatures.MinimumSide}×{AlexNetFeatures.MinimumSide} pixels (this run has {side}×{side})"
        : Network is Vgg16Features && side < 16 ? $"LPIPS-VGG needs images of at least 16×16 pixels (this run has {side}×{side})"
        : null;
}
