namespace BlurVae.Training.Perceptual;

/// <summary>
/// The input normalisations of the perceptual networks, for our images in [−1, 1] ([N, 1 or 3, H, W]; grey images
/// are repeated to three channels): per channel (x − shift)/scale. ImageNet's is torchvision's
/// ((x + 1)/2 − mean)/std; LPIPS's is the lpips package's ScalingLayer, the same map with its constants rounded to
/// three decimals (shift = 2·mean − 1, scale = 2·std), which LPIPS and the VGG loss use so that their heads see the
/// inputs they were trained on.
/// </summary>
public static class PerceptualInput
{
    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406], ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>The lpips package's ScalingLayer constants (v0.1).</summary>
    public static readonly double[] LpipsShift = [-0.030, -0.088, -0.188], LpipsScale = [0.458, 0.448, 0.450];

    /// <summary>((x + 1)/2 − mean)/std per channel (torchvision's ImageNet normalisation of [0, 1] images).</summary>
    public static Tensor ImageNet(Tensor x) =>
        Affine(x, ImageNetStd.Select(s => 0.5 / s).ToArray(), ImageNetMean.Zip(ImageNetStd, (m, s) => (0.5 - m) / s).ToArray());

    /// <summary>(x − shift)/scale per channel with the lpips package's constants.</summary>
    public static Tensor Lpips(Tensor x) =>
        Affine(x, LpipsScale.Select(s => 1 / s).ToArray(), LpipsShift.Zip(LpipsScale, (m, s) => -m / s).ToArray());

    /// <summary>[N, 1 or 3, H, W] → x·a + b per channel, grey images repeated to three channels first.</summary>
    private static Tensor Affine(Tensor x, double[] a, double[] b)
    {
        if (x.Rank != 4 || (x.Shape[1] != 1 && x.Shape[1] != 3))
            throw new ArgumentException($"The perceptual networks take images [N, 1 or 3, H, W] (got {Tensor.ShapeString(x.Shape)}).");
        if (x.Shape[1] == 1) x = Tensor.Concat([x, x, x], axis: 1);
        return x * Tensor.FromArray(a, [1, 3, 1, 1], x.DType, x.Backend) + Tensor.FromArray(b, [1, 3, 1, 1], x.DType, x.Backend);
    }
}
