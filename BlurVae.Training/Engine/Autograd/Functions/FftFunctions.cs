
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Scaling conventions of torch.fft: which direction carries the 1/(H·W).</summary>
public enum FftNorm
{
    /// <summary>Forward unscaled, inverse scaled by 1/(H·W).</summary>
    Backward,
    /// <summary>Both scaled by 1/sqrt(H·W): unitary, so Parseval holds exactly.</summary>
    Ortho,
    /// <summary>Forward scaled by 1/(H·W), inverse unscaled.</summary>
    Forward,
}

/// <summary>
/// rfft2 over the last two axes: x[..., H, W] → complex [..., H, W/2+1] stored as reals [..., H, W/2+1, 2].
/// As a real-linear map its adjoint is the real part of the unnormalised inverse DFT over the stored half
/// spectrum, i.e. irfft with the interior columns (those whose conjugates were dropped) halved.
/// </summary>
public sealed class Rfft2Function : Function
{
    private FftNorm _norm;

    public static Tensor Forward(Tensor x, FftNorm norm = FftNorm.Backward)
    {
        if (x.Rank < 2) throw new ArgumentException($"rfft2 needs [..., H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int h = x.Shape[^2], w = x.Shape[^1], batch = x.Length / Math.Max(1, h * w);
        var shape = new int[x.Rank + 1];
        Array.Copy(x.Shape, shape, x.Rank - 1);
        shape[^2] = w / 2 + 1;
        shape[^1] = 2;
        var y = Tensor.Empty(shape, x.DType, x.Backend);
        x.Backend.Rfft2(y.Buffer, x.Buffer, batch, h, w);
        double scale = FftScale.Forward(norm, h, w);
        y = FftScale.Scaled(y, scale);
        return new Rfft2Function { _norm = norm }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int h = x.Shape[^2], w = x.Shape[^1], batch = x.Length / Math.Max(1, h * w);
        // The adjoint is linear, so the norm's scale rides on the column weights (one launch, not a second pass over dx),
        // and the weighted spectrum is this call's own temporary: the inverse transform may consume it (no copy on a GPU).
        double scale = FftScale.Forward(_norm, h, w);
        var weighted = FftScale.WeightColumns(g, w, interiorWeight: 0.5 * scale, edgeWeight: scale);
        var dx = x.EmptyLike();
        g.Backend.Irfft2(dx.Buffer, weighted.Buffer, batch, h, w, overwriteInput: true);
        weighted.Release();
        return [dx];
    }
}

/// <summary>
/// irfft2 over the last two axes: the half spectrum c[..., H, W/2+1, 2] → real x[..., H, W] (W must be given:
/// W/2+1 columns come from both 2m and 2m+1). Imaginary parts of self-conjugate bins are ignored, as in torch.
/// Adjoint: rfft2 of the gradient with the interior columns doubled (they stand for two bins each).
/// </summary>
public sealed class Irfft2Function : Function
{
    private FftNorm _norm;
    private int _w;

    public static Tensor Forward(Tensor c, int w, FftNorm norm = FftNorm.Backward)
    {
        if (c.Rank < 3 || c.Shape[^1] != 2 || c.Shape[^2] != w / 2 + 1)
            throw new ArgumentException($"irfft2 to width {w} needs [..., H, {w / 2 + 1}, 2], got {Tensor.ShapeString(c.Shape)}.", nameof(c));
        int h = c.Shape[^3], batch = c.Length / Math.Max(1, h * (w / 2 + 1) * 2);
        var shape = new int[c.Rank - 1];
        Array.Copy(c.Shape, shape, c.Rank - 2);
        shape[^1] = w;
        var x = Tensor.Empty(shape, c.DType, c.Backend);
        c.Backend.Irfft2(x.Buffer, c.Buffer, batch, h, w);
        double scale = FftScale.Inverse(norm, h, w);
        x = FftScale.Scaled(x, scale);
        return new Irfft2Function { _norm = norm, _w = w }.Record(x, c);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        int h = g.Shape[^2], w = _w, batch = g.Length / Math.Max(1, h * w);
        var spec = Inputs[0].EmptyLike();
        g.Backend.Rfft2(spec.Buffer, g.Buffer, batch, h, w);
        double scale = FftScale.Inverse(_norm, h, w); // linear: it rides on the column weights, as in Rfft2Function.Backward
        var dc = FftScale.WeightColumns(spec, w, interiorWeight: 2.0 * scale, edgeWeight: scale);
        spec.Release();
        return [dc];
    }
}

internal static class FftScale
{
    /// <summary>
    /// <paramref name="t"/>·<paramref name="scale"/> in a new tensor (t itself for 1): never in place, since the
    /// device kernels take __restrict__ input and output pointers. t is a temporary the caller gives up: its buffer
    /// returns to the cache at once (a forward's temporaries are not tracked by the autograd, so nothing else would
    /// return it before a garbage collection).
    /// </summary>
    public static Tensor Scaled(Tensor t, double scale)
    {
        if (scale == 1.0) return t;
        var y = t.EmptyLike();
        t.Backend.UnaryForward(UnaryOp.Scale, y.Buffer, t.Buffer, scale);
        t.Release();
        return y;
    }

    // The column weights of each backend, dtype, width and pair of weights, uploaded once: a backward pass then makes
    // no upload (on a GPU a synchronous copy) and no allocation for them. Pinned, so the autograd never releases them.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IBackend, System.Collections.Concurrent.ConcurrentDictionary<(DType, int, double, double), Tensor>> Weights = new();

    private static Tensor ColumnWeights(IBackend backend, DType dtype, int w, double interiorWeight, double edgeWeight) =>
        Weights.GetOrCreateValue(backend).GetOrAdd((dtype, w, interiorWeight, edgeWeight), key =>
        {
            // [cols, 2]: the weight repeated for the real and the imaginary part, so the product broadcasts only over
            // the leading axes and runs over rows of 2·cols values. As [cols, 1] it broadcast along the last axis too,
            // and the CPU loop ran one 2-value row per column (~1 % of a fashion32 step in the per-row overhead).
            int cols = w / 2 + 1;
            var weights = new double[cols * 2];
            for (int k = 0; k < cols; k++)
                weights[2 * k] = weights[2 * k + 1] = ShapeRules.IsInteriorColumn(k, w) ? interiorWeight : edgeWeight;
            return Tensor.FromArray(weights, [cols, 2], dtype, backend).Keep();
        });

    public static double Forward(FftNorm norm, int h, int w) => norm switch
    {
        FftNorm.Backward => 1.0,
        FftNorm.Ortho => 1.0 / Math.Sqrt((double)h * w),
        _ => 1.0 / ((double)h * w),
    };

    public static double Inverse(FftNorm norm, int h, int w) => norm switch
    {
        FftNorm.Backward => 1.0 / ((double)h * w),
        FftNorm.Ortho => 1.0 / Math.Sqrt((double)h * w),
        _ => 1.0,
    };

    /// <summary>
    /// Multiplies the interior columns of a half spectrum [..., W/2+1, 2] by a weight: those with a dropped
    /// conjugate partner, i.e. all but column 0 and, for even W, column W/2; those two by <paramref name="edgeWeight"/>.
    /// </summary>
    public static Tensor WeightColumns(Tensor spectrum, int w, double interiorWeight, double edgeWeight)
    {
        var wt = ColumnWeights(spectrum.Backend, spectrum.DType, w, interiorWeight, edgeWeight);
        var y = spectrum.EmptyLike();
        var padded = BinaryFunction.PadRank(wt.Shape, spectrum.Rank);
        spectrum.Backend.BinaryForward(BinaryOp.Mul, y.Buffer, spectrum.Shape, spectrum.Buffer, spectrum.Shape, wt.Buffer, padded);
        return y;
    }
}
