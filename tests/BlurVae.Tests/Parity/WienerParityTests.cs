using BlurVae.Training.SelfTest;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The kernels of kernels/wiener.cuh against the C# method code they replace: BlurKernelOtf.Embed, WienerBlurLoss and
/// ComplexMulFunction (values and tape-autograd gradients, evaluated in float64 on the CPU backend from the same
/// float32 inputs the kernels get). The spectra are the CPU backend's Rfft2 of the images and kernels.
/// </summary>
[TestFixture, Category("Parity")]
public class WienerParityTests
{
    private const float WienerC = 0.025f;

    // (n, channels, h, w, ks): batch 1 and 3, one and three channels, odd/even/non-square grids, kernels 3, 5 and 11.
    private static readonly object[] Cases =
    [
        new object[] { 1, 1, 7, 9, 3 },
        new object[] { 3, 3, 7, 9, 5 },
        new object[] { 3, 1, 8, 8, 5 },
        new object[] { 1, 3, 8, 8, 3 },
        new object[] { 3, 3, 32, 32, 11 },
        new object[] { 1, 1, 32, 32, 5 },
    ];

    // Block sizes per test case: the one-block-per-image forward needs multiples of 32; the per-bin kernels take any.
    private static readonly int[] ReduceBlocks = [32, 96, 256, 1024];
    private static readonly int[] ElementBlocks = [1, 33, 128, 1024];

    // ---- BlurKernelOtf.Embed ----

    [TestCaseSource(nameof(Cases))]
    public void EmbedMatchesBlurKernelOtf(int n, int channels, int h, int w, int ks)
    {
        _ = channels;
        float[] k = Uniform(ks * 100 + h, n * ks * ks);
        // Pure data movement: the result must be bit-identical.
        float[] expected = BlurKernelOtf.Embed(Float64(k, n, ks, ks), h, w).ToFloatArray();
        using var bk = Upload(k);
        foreach (int block in ElementBlocks)
        {
            using var bout = Upload(Uniform(1, n * h * w)); // garbage: every element, zeros included, must be written
            Device.BlurKernelToOtfForward(bout, bk, n, ks, h, w, block);
            AssertClose(expected, Device.Download(bout), 0, 0, $"embedded kernel (block {block})");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void EmbedBackwardMatchesAutograd(int n, int channels, int h, int w, int ks)
    {
        _ = channels;
        float[] k = Uniform(ks * 200 + h, n * ks * ks), g = Uniform(ks * 300 + w, n * h * w);
        var kernel = Leaf(k, n, ks, ks);
        BlurKernelOtf.Embed(kernel, h, w).Backward(Float64(g, n, h, w));
        float[] expected = kernel.Grad!.ToFloatArray();
        using var bg = Upload(g);
        foreach (int block in ElementBlocks)
        {
            using var bdk = Device.Allocate(n * ks * ks);
            Device.BlurKernelToOtfBackward(bdk, bg, n, ks, h, w, block);
            AssertClose(expected, Device.Download(bdk), 0, 0, $"dk (block {block})");
        }
    }

    // ---- WienerBlurLoss ----

    [TestCaseSource(nameof(Cases))]
    public void WienerForwardMatchesWienerBlurLoss(int n, int channels, int h, int w, int ks)
    {
        var (x, xHat, k) = Inputs(n, channels, h, w, ks);
        var (fk, e) = Spectra(x, xHat, k, n, channels, h, w, ks);
        using var bfk = Upload(fk);
        using var be = Upload(e);
        // float32 inputs (E, F_k rounded once) and a float32 sum of C·H·(W/2+1) positive terms in another order:
        // a relative error far below 1e-5.
        AssertPerImageLosses((xs, xHats, kernels) => WienerBlurLoss.Compute(xs, xHats, kernels, WienerC), x, xHat, k, n, channels, h, w, ks,
            ReduceBlocks, (bloss, bperImage, block) => Device.WienerWeightForward(bloss, bperImage, bfk, be, n, channels, h, w, WienerC, 1f / n, block), new(1e-7, 1e-5));
    }

    /// <summary>
    /// A batch loss kernel's per-image output against the loss of each image's one-image batch, and its one-element
    /// output (launched with scale 1/n) against the batch loss (<paramref name="loss"/> in float64 on the CPU backend), at
    /// every block size; the batch value is the same bits at every launch of one block size (a ticket-finished sum,
    /// not float atomics).
    /// </summary>
    internal static void AssertPerImageLosses(Func<Tensor, Tensor, Tensor, Tensor> loss, float[] x, float[] xHat, float[] k, int n, int channels, int h, int w, int ks,
        int[] blocks, Action<DeviceMemory, DeviceMemory, int> launch, Tolerance tolerance)
    {
        var perImage = new float[n];
        for (int i = 0; i < n; i++)
            perImage[i] = (float)loss(Float64(x, n, channels, h, w).Narrow(0, i, 1), Float64(xHat, n, channels, h, w).Narrow(0, i, 1), Float64(k, n, ks, ks).Narrow(0, i, 1)).Item();
        double batch = loss(Float64(x, n, channels, h, w), Float64(xHat, n, channels, h, w), Float64(k, n, ks, ks)).Item();
        foreach (int block in blocks)
        {
            using var bloss = Upload([float.NaN]);       // garbage: the last block must write it
            using var bperImage = Upload(Uniform(3, n)); // garbage: every block writes its image
            launch(bloss, bperImage, block);
            AssertClose(perImage, Device.Download(bperImage), tolerance, $"per-image loss (block {block})");
            float value = Device.Download(bloss)[0];
            Assert.That(value, Is.EqualTo(batch).Within(tolerance.Rtol * batch + tolerance.Atol), $"batch loss (block {block})");
            launch(bloss, bperImage, block);
            Assert.That(Device.Download(bloss)[0], Is.EqualTo(value), $"the same bits again (block {block})");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WienerBackwardMatchesAutogradOnTheSpectra(int n, int channels, int h, int w, int ks)
    {
        var (x, xHat, k) = Inputs(n, channels, h, w, ks);
        var (fk, e) = Spectra(x, xHat, k, n, channels, h, w, ks);
        // WienerBlurLoss.Compute's expression, from leaf spectra: its gradients are what reaches Rfft2's outputs.
        var fkLeaf = Leaf(fk, n, h, w / 2 + 1, 2);
        var eLeaf = Leaf(e, n, channels, h, w / 2 + 1, 2);
        var power = HalfSpectrum.AbsSquared(fkLeaf);
        var gain = (power / (power + (double)WienerC).Square()).Reshape(n, 1, h, w / 2 + 1);
        var loss = (HalfSpectrum.AbsSquared(eLeaf) * gain * HalfSpectrum.ColumnMultiplicity(w, eLeaf)).Sum() * (0.5 / n);
        Assert.That(loss.Item(), Is.EqualTo(WienerBlurLoss.Compute(Float64(x, n, channels, h, w), Float64(xHat, n, channels, h, w), Float64(k, n, ks, ks), WienerC).Item())
                                   .Within(1e-6 * loss.Item()), "the leaf-spectrum expression is WienerBlurLoss");
        loss.Backward();
        float[] expectedDe = eLeaf.Grad!.ToFloatArray(), expectedDfk = fkLeaf.Grad!.ToFloatArray();
        using var bfk = Upload(fk);
        using var be = Upload(e);
        using var bdl = Upload([1f]);
        foreach (int block in ElementBlocks)
        {
            using var bde = Device.Allocate(e.Length);
            using var bdfk = Device.Allocate(fk.Length);
            Device.WienerWeightBackward(bde, bdfk, bdl, bfk, be, n, channels, h, w, WienerC, 1f / n, block);
            // A few float32 roundings per element; (C − p) cancels near p = C, so the absolute part scales with the largest gradient.
            AssertClose(expectedDe, Device.Download(bde), 1e-6 * MaxAbs(expectedDe), 1e-5, $"dE (block {block})");
            AssertClose(expectedDfk, Device.Download(bdfk), 1e-5 * MaxAbs(expectedDfk), 1e-4, $"dF_k (block {block})");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WienerBackwardChainsToTheGradientsOfWienerBlurLoss(int n, int channels, int h, int w, int ks)
    {
        // End to end: the kernels' dE and dF_k, pulled back through the Rfft2 adjoints and the embedding's adjoint,
        // give WienerBlurLoss's own autograd gradients w.r.t. x and the kernel.
        var (x, xHat, k) = Inputs(n, channels, h, w, ks);
        var (fk, e) = Spectra(x, xHat, k, n, channels, h, w, ks);
        var xLeaf = Leaf(x, n, channels, h, w);
        var kLeaf = Leaf(k, n, ks, ks);
        WienerBlurLoss.Compute(xLeaf, Float64(xHat, n, channels, h, w), kLeaf, WienerC).Backward();
        float[] expectedDx = xLeaf.Grad!.ToFloatArray(), expectedDk = kLeaf.Grad!.ToFloatArray();

        using var bfk = Upload(fk);
        using var be = Upload(e);
        using var bdl = Upload([1f]);
        using var bde = Device.Allocate(e.Length);
        using var bdfk = Device.Allocate(fk.Length);
        Device.WienerWeightBackward(bde, bdfk, bdl, bfk, be, n, channels, h, w, WienerC, 1f / n);
        AssertClose(expectedDx, PullBackThroughRfft2(bde, FftNorm.Ortho, n, channels, h, w), 1e-5 * MaxAbs(expectedDx), 1e-4, "dx");
        AssertClose(expectedDk, PullBackToBlurKernel(bdfk, n, ks, h, w), 1e-5 * MaxAbs(expectedDk), 1e-4, "dk");
    }

    [Test]
    public void LauncherRejectsBadSizes()
    {
        using var b = Device.Allocate(512);
        Assert.Throws<ArgumentException>(() => Device.BlurKernelToOtfForward(b, b, 1, 4, 8, 8));   // even kernel
        Assert.Throws<ArgumentException>(() => Device.BlurKernelToOtfForward(b, b, 1, 5, 4, 8));   // kernel larger than the grid
        using var l = Device.Allocate(1);
        Assert.Throws<ArgumentException>(() => Device.WienerWeightForward(l, b, b, b, 3, 3, 8, 8, WienerC, 1f)); // e too short (3·3·8·5·2)
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.WienerWeightForward(l, b, b, b, 1, 1, 4, 4, WienerC, 1f, 48));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.WienerWeightForward(l, b, b, b, 0, 1, 4, 4, WienerC, 1f)); // no images: no batch mean
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.WienerWeightBackward(b, b, b, b, b, 1, 1, 4, 4, -1f, 1f));
    }

    // ---- data ----

    // x, x̂ in [−1, 1]; kernels positive and normalised per image (as G_γ makes them), so |F_k| ≤ 1 and |F_k|² spans C.
    private static (float[] X, float[] XHat, float[] K) Inputs(int n, int channels, int h, int w, int ks)
    {
        float[] x = Uniform(n * 1000 + h * w + channels, n * channels * h * w), xHat = Uniform(n * 2000 + h + w + ks, x.Length);
        float[] k = Uniform(ks * 31 + n, n * ks * ks, 0, 1);
        for (int i = 0; i < n; i++)
        {
            var ki = k.AsSpan(i * ks * ks, ks * ks);
            float sum = 0;
            foreach (float v in ki) sum += v;
            for (int j = 0; j < ki.Length; j++) ki[j] /= sum;
        }
        return (x, xHat, k);
    }

    // F_k = rfft2(Embed(k)) unnormalised and E = rfft2_ortho(x − x̂), on the CPU backend, rounded to float32 for the kernels.
    private static (float[] Fk, float[] E) Spectra(float[] x, float[] xHat, float[] k, int n, int channels, int h, int w, int ks) =>
        (BlurKernelOtf.Compute(Float64(k, n, ks, ks), h, w).ToFloatArray(),
         (Float64(x, n, channels, h, w) - Float64(xHat, n, channels, h, w)).Rfft2(FftNorm.Ortho).ToFloatArray());

    internal static Tensor Float64(float[] values, params int[] shape) => Tensor.FromArray(Array.ConvertAll(values, v => (double)v), shape);

    internal static Tensor Leaf(float[] values, params int[] shape)
    {
        var t = Float64(values, shape);
        t.RequiresGrad = true;
        return t;
    }

    // The gradient w.r.t. the real images [..., h, w] of a device gradient w.r.t. their half spectra (Rfft2 with
    // `norm`, [..., h, w/2 + 1, 2]): Rfft2's adjoint, by the CPU backend's autograd.
    internal static float[] PullBackThroughRfft2(DeviceMemory dSpectrum, FftNorm norm, params int[] shape)
    {
        var image = Leaf(new float[shape.Aggregate(1, (a, b) => a * b)], shape);
        image.Rfft2(norm).Backward(Float64(Device.Download(dSpectrum), [.. shape[..^1], shape[^1] / 2 + 1, 2]));
        return image.Grad!.ToFloatArray();
    }

    // dk [n, ks, ks] from a device dF_k [n, h, w/2 + 1, 2] (the unnormalised kernel spectrum): Rfft2's adjoint, then
    // the embedding's adjoint kernel (blur_kernel_to_otf_backward_kernel).
    internal static float[] PullBackToBlurKernel(DeviceMemory dfk, int n, int ks, int h, int w)
    {
        using var bdEmbedded = Upload(PullBackThroughRfft2(dfk, FftNorm.Backward, n, h, w));
        using var bdk = Device.Allocate(n * ks * ks);
        Device.BlurKernelToOtfBackward(bdk, bdEmbedded, n, ks, h, w);
        return Device.Download(bdk);
    }

    internal static double MaxAbs(float[] values) => values.Length == 0 ? 0 : values.Max(v => Math.Abs((double)v));
}
