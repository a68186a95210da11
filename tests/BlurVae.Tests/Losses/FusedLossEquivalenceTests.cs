using static BlurVae.Tests.Losses.LossReference;

namespace BlurVae.Tests.Losses;

/// <summary>
/// The fused Wiener and kernel-fit losses against the chains of generic ops they replace (kept here as the
/// specification): equal values and gradients in float64 to rounding, and float32 within float32 rounding.
/// </summary>
[TestFixture, Category("Losses")]
public class FusedLossEquivalenceTests
{
    // The previous WienerBlurLoss.Compute: |F(x − x̂)|²·|W|²·m summed, ½, batch mean, all generic ops.
    private static Tensor GenericWiener(Tensor x, Tensor xHat, Tensor kernel, double c)
    {
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        var error = (x - xHat).Rfft2(FftNorm.Ortho).Square().Sum([-1]);
        var power = GenericOtf(kernel, h, w).Square().Sum([-1]);
        var gain = (power / (power + c).Square()).Reshape(n, 1, h, w / 2 + 1);
        return (error * gain * Multiplicity(w, x)).Sum() * (0.5 / n);
    }

    // The previous BlurKernelFitLoss.Compute: the circular blur through irfft2, then the squared difference.
    private static Tensor GenericBlurKernelFit(Tensor x, Tensor xHat, Tensor kernel)
    {
        int n = x.Shape[0], h = x.Shape[2], w = x.Shape[3];
        var otf = GenericOtf(kernel, h, w).Reshape(n, 1, h, w / 2 + 1, 2);
        var blurred = ComplexMulFunction.Forward(x.Rfft2(FftNorm.Backward), otf).Irfft2(w, FftNorm.Backward);
        return (blurred - xHat).Square().Sum() * (1.0 / n);
    }

    // The previous BlurKernelOtf: the roll assembled from narrows, zero blocks and concats.
    private static Tensor GenericOtf(Tensor k, int h, int w)
    {
        int ks = k.Shape[1], r = ks / 2;
        return Wrap(Wrap(k, 1, ks, r, h), 2, ks, r, w).Rfft2(FftNorm.Backward);
    }

    private static Tensor Wrap(Tensor t, int axis, int ks, int r, int extent)
    {
        var parts = new List<Tensor> { t.Narrow(axis, r, ks - r) };
        if (extent > ks)
        {
            var gap = (int[])t.Shape.Clone();
            gap[axis] = extent - ks;
            parts.Add(Tensor.Zeros(gap, t.DType, t.Backend));
        }
        if (r > 0) parts.Add(t.Narrow(axis, 0, r));
        return parts.Count == 1 ? parts[0] : Tensor.Concat(parts, axis);
    }

    private static Tensor Multiplicity(int w, Tensor like)
    {
        var m = new double[w / 2 + 1];
        for (int v = 0; v < m.Length; v++) m[v] = v == 0 || (w % 2 == 0 && v == w / 2) ? 1.0 : 2.0;
        return Tensor.FromArray(m, [m.Length], like.DType, like.Backend);
    }

    private static (double Value, double[][] Grads) Evaluate(Func<Tensor[], Tensor> loss, params Tensor[] inputs)
    {
        var leaves = inputs.Select(t => { var l = t.Detach(); l.RequiresGrad = true; return l; }).ToArray();
        var value = loss(leaves);
        value.Backward();
        return (value.Item(), leaves.Select(l => l.Grad!.ToDoubleArray()).ToArray());
    }

    private static void AssertClose((double Value, double[][] Grads) actual, (double Value, double[][] Grads) expected, double rtol)
    {
        Assert.That(actual.Value, Is.EqualTo(expected.Value).Within(rtol * Math.Abs(expected.Value) + 1e-300));
        for (int i = 0; i < expected.Grads.Length; i++)
        {
            double scale = expected.Grads[i].Max(Math.Abs);
            Assert.That(actual.Grads[i], Is.EqualTo(expected.Grads[i]).Within(rtol * scale), $"gradient of input {i}");
        }
    }

    [TestCase(3, 1, 32, 32, 11, 0.025), TestCase(2, 3, 7, 9, 5, 0.1), TestCase(1, 2, 6, 5, 5, 0.0125), TestCase(3, 1, 5, 5, 1, 0.3)]
    public void WienerMatchesTheGenericChain(int n, int c, int h, int w, int ks, double constant)
    {
        var x = Uniform(1, -1, 1, n, c, h, w);
        var xHat = Uniform(2, -1, 1, n, c, h, w);
        var k = Uniform(3, 0, 1, n, ks, ks);
        var fused = Evaluate(t => WienerBlurLoss.Compute(t[0], t[1], t[2], constant), x, xHat, k);
        var generic = Evaluate(t => GenericWiener(t[0], t[1], t[2], constant), x, xHat, k);
        AssertClose(fused, generic, 1e-12);
        var single = Evaluate(t => WienerBlurLoss.Compute(t[0], t[1], t[2], constant), x.To(DType.Float32), xHat.To(DType.Float32), k.To(DType.Float32));
        AssertClose(single, generic, 2e-4);
    }

    [TestCase(3, 1, 32, 32, 11), TestCase(2, 3, 7, 9, 5), TestCase(1, 2, 6, 5, 5), TestCase(3, 1, 5, 5, 1)]
    public void BlurKernelFitMatchesTheGenericChain(int n, int c, int h, int w, int ks)
    {
        var x = Uniform(4, -1, 1, n, c, h, w);
        var xHat = Uniform(5, -1, 1, n, c, h, w);
        var k = Uniform(6, 0, 1, n, ks, ks);
        var fused = Evaluate(t => BlurKernelFitLoss.Compute(t[0], t[1], t[2]), x, xHat, k);
        var generic = Evaluate(t => GenericBlurKernelFit(t[0], t[1], t[2]), x, xHat, k);
        AssertClose(fused, generic, 1e-11);
        var single = Evaluate(t => BlurKernelFitLoss.Compute(t[0], t[1], t[2]), x.To(DType.Float32), xHat.To(DType.Float32), k.To(DType.Float32));
        AssertClose(single, generic, 2e-4);
    }
}
