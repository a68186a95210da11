
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The Wiener-weighted error, one fused op (Losses.WienerBlurLoss): per image
/// ℓ_i = ½ Σ_c Σ_f m_f |W_f|² |E[i, c, f]|², |W_f|² = p/(p + C)², p = |F_k[i, f]|², m_f the half-spectrum column
/// multiplicity, and the output loss = scale·Σ_i ℓ_i (the batch mean for scale = 1/N), one element, in the same op.
/// fk [N, H, W/2+1, 2] is the unnormalised kernel spectrum (shared by the channels), e [N, C, H, W/2+1, 2] the
/// error spectrum (WienerBlurLoss: unnormalised, the orthonormal 1/(H·W) in the scale); the width W is given because W/2+1 columns come from both 2m and 2m+1. Backward, with
/// g = ∂loss·scale: ∂e = g·m_f|W_f|²·E and ∂fk = g·m_f·Σ_c|E|²·(C − p)/(p + C)³·F_k.
/// </summary>
public sealed class WienerWeightFunction : Function
{
    private int _width;
    private double _constant, _scale;

    /// <param name="perImage">Where the op writes each ℓ_i, [N] (a caller that reports them per image); when null a
    /// temporary, returned to the backend at once.</param>
    /// <returns>loss, one element (shape []).</returns>
    public static Tensor Forward(Tensor fk, Tensor e, int width, double constant, double scale, Tensor? perImage = null)
    {
        var (n, channels, height) = CheckSpectra("WienerWeight", fk, e, width, nameof(e));
        if (!(constant >= 0) || double.IsInfinity(constant))
            throw new ArgumentOutOfRangeException(nameof(constant), constant, "WienerWeight: the Wiener constant C must be finite and >= 0.");
        var loss = BatchLoss.Run(fk, n, perImage, (l, items) => fk.Backend.WienerWeightForward(l, items, fk.Buffer, e.Buffer, n, channels, height, width, constant, scale));
        return new WienerWeightFunction { _width = width, _constant = constant, _scale = scale }.Record(loss, fk, e);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor fk = Inputs[0], e = Inputs[1];
        var de = e.EmptyLike();
        var dfk = fk.EmptyLike();
        g.Backend.WienerWeightBackward(de.Buffer, dfk.Buffer, g.Buffer, fk.Buffer, e.Buffer, e.Shape[0], e.Shape[1], e.Shape[2], _width, _constant, _scale);
        return [NeedsGrad(0) ? dfk : null, NeedsGrad(1) ? de : null];
    }

    /// <summary>
    /// Checks a kernel spectrum fk [N, H, W/2+1, 2] against image spectra [N, C, H, W/2+1, 2] of the same dtype and
    /// backend; returns (N, C, H).
    /// </summary>
    internal static (int N, int Channels, int Height) CheckSpectra(string op, Tensor fk, Tensor images, int width, string imagesName)
    {
        ArgumentNullException.ThrowIfNull(fk);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int wh = width / 2 + 1;
        if (images.Rank != 5 || images.Shape[3] != wh || images.Shape[4] != 2)
            throw new ArgumentException($"{op}: {imagesName} must be a half spectrum [N, C, H, {wh}, 2] of width {width}, got {Tensor.ShapeString(images.Shape)}.", imagesName);
        int n = images.Shape[0], channels = images.Shape[1], height = images.Shape[2];
        if (fk.Rank != 4 || fk.Shape[0] != n || fk.Shape[1] != height || fk.Shape[2] != wh || fk.Shape[3] != 2)
            throw new ArgumentException($"{op}: the kernel spectrum must be [{n}, {height}, {wh}, 2] for {imagesName} {Tensor.ShapeString(images.Shape)}, got {Tensor.ShapeString(fk.Shape)}.", nameof(fk));
        if (fk.DType != images.DType || !ReferenceEquals(fk.Backend, images.Backend))
            throw new ArgumentException($"{op}: the kernel spectrum ({fk.DType} on {fk.Backend.Name}) and {imagesName} ({images.DType} on {images.Backend.Name}) must share a dtype and a backend.", nameof(fk));
        return (n, channels, height);
    }
}
