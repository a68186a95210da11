
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The kernel fit ‖x ∗ k − x̂‖² by Parseval, one fused op (Losses.BlurKernelFitLoss): per image
/// ℓ_i = 1/(H·W)·Σ_c Σ_f m_f |X·F_k − X̂|², X = rfft2(x), X̂ = rfft2(x̂) [N, C, H, W/2+1, 2] and the kernels' OTF
/// F_k [N, H, W/2+1, 2], all unnormalised (FftNorm.Backward), and the output loss = scale·Σ_i ℓ_i (the batch mean
/// for scale = 1/N), one element; the width W is given because W/2+1 columns come from both 2m and 2m+1. Backward,
/// with R = X·F_k − X̂ and g = ∂loss·scale·2m_f/(H·W): ∂X̂ = −g·R and ∂F_k = g·Σ_c R·conj(X) from the backend op;
/// ∂X = g·R·conj(F_k) = −∂X̂·conj(F_k) only when asked for (the trainer passes x detached).
/// </summary>
public sealed class BlurKernelFitFunction : Function
{
    private int _width;
    private double _scale;

    /// <param name="spectraAreTemporaries">The caller made x and x̂ for this op alone (BlurKernelFitLoss's transforms of
    /// detached images): the node owns those that are outside the graph and returns them with itself.</param>
    /// <returns>loss, one element (shape []).</returns>
    public static Tensor Forward(Tensor x, Tensor xHat, Tensor fk, int width, double scale, bool spectraAreTemporaries = false)
    {
        var (n, channels, height) = WienerWeightFunction.CheckSpectra("BlurKernelFit", fk, x, width, nameof(x));
        ArgumentNullException.ThrowIfNull(xHat);
        if (!xHat.Shape.SequenceEqual(x.Shape) || xHat.DType != x.DType || !ReferenceEquals(xHat.Backend, x.Backend))
            throw new ArgumentException($"BlurKernelFit: xHat ({Tensor.ShapeString(xHat.Shape)}, {xHat.DType}) must match x ({Tensor.ShapeString(x.Shape)}, {x.DType}) on one backend.", nameof(xHat));
        var loss = BatchLoss.Run(fk, n, null, (l, perImage) => fk.Backend.BlurKernelFitForward(l, perImage, x.Buffer, xHat.Buffer, fk.Buffer, n, channels, height, width, scale));
        var fn = new BlurKernelFitFunction { _width = width, _scale = scale };
        var result = fn.Record(loss, x, xHat, fk);
        if (spectraAreTemporaries && result.Creator == fn)
            foreach (var spectrum in (ReadOnlySpan<Tensor>)[x, xHat])
                if (spectrum.IsLeaf) fn.Own(spectrum);
        return result;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor x = Inputs[0], xHat = Inputs[1], fk = Inputs[2];
        int n = x.Shape[0], channels = x.Shape[1], height = x.Shape[2], wh = x.Shape[3];
        var dXHat = xHat.EmptyLike();
        var dFk = fk.EmptyLike();
        g.Backend.BlurKernelFitBackward(dXHat.Buffer, dFk.Buffer, g.Buffer, x.Buffer, xHat.Buffer, fk.Buffer, n, channels, height, _width, _scale);
        Tensor? dX = NeedsGrad(0)
            ? ComplexMulFunction.Product(-dXHat, fk.Reshape(n, 1, height, wh, 2), conjugateB: true)
            : null;
        return [dX, NeedsGrad(1) ? dXHat : null, NeedsGrad(2) ? dFk : null];
    }
}
