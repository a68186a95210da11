using BlurVae.Training.SelfTest;
using static BlurVae.Tests.Parity.KernelParity;
using static BlurVae.Tests.Parity.WienerParityTests;

namespace BlurVae.Tests.Parity;

/// <summary>
/// blur_kernel_fit_{forward,backward}_kernel (kernels/wiener.cuh) against BlurKernelFitLoss: values per image and
/// tape-autograd gradients, evaluated in float64 on the CPU backend from the same float32 inputs the kernels get.
/// Backwards get an upstream gradient that is not 1 and the batch scale 1/n, so a kernel that drops either fails.
/// </summary>
[TestFixture, Category("Parity")]
public class BlurKernelFitParityTests
{
    // (n, channels, h, w, ks): batch 1 and 3, one and three channels, odd/even/non-square grids.
    private static readonly object[] SpectrumCases =
    [
        new object[] { 1, 1, 7, 9, 3 },
        new object[] { 3, 3, 7, 9, 5 },
        new object[] { 3, 1, 8, 8, 5 },
        new object[] { 1, 3, 16, 10, 3 },
        new object[] { 3, 3, 32, 32, 11 },
    ];

    // The forward is one block per image (multiples of 32); the backward is per bin and takes any block.
    private static readonly int[] ReduceBlocks = [32, 96, 1024];
    private static readonly int[] ElementBlocks = [1, 33, 1024];


    [TestCaseSource(nameof(SpectrumCases))]
    public void BlurKernelFitForwardMatchesBlurKernelFitLoss(int n, int channels, int h, int w, int ks)
    {
        var (x, xHat, k) = FitInputs(n, channels, h, w, ks);
        var (sx, sxHat, fk) = FitSpectra(x, xHat, k, n, channels, h, w, ks);
        using var bx = Upload(sx);
        using var bxh = Upload(sxHat);
        using var bfk = Upload(fk);
        // float32 spectra (~√(HW) in size, rounded once), a float32 residual and a float32 sum of C·H·(W/2+1)
        // positive terms: a relative error of a few 1e-6 of a loss of ~C·H·W/2.
        AssertPerImageLosses(BlurKernelFitLoss.Compute, x, xHat, k, n, channels, h, w, ks,
            ReduceBlocks, (bloss, bperImage, block) => Device.BlurKernelFitForward(bloss, bperImage, bx, bxh, bfk, n, channels, h, w, 1f / n, block), new(1e-6, 2e-5));
    }

    [TestCaseSource(nameof(SpectrumCases))]
    public void BlurKernelFitBackwardMatchesAutogradOnTheSpectra(int n, int channels, int h, int w, int ks)
    {
        var (x, xHat, k) = FitInputs(n, channels, h, w, ks);
        var (sx, sxHat, fk) = FitSpectra(x, xHat, k, n, channels, h, w, ks);
        float g = UpstreamGrad;
        int wh = w / 2 + 1;
        // BlurKernelFitLoss by Parseval from leaf spectra: Σ_i g_i·(1/HW)·Σ_c,f m_f |X·F_k − X̂|².
        var xLeaf = Leaf(sx, n, channels, h, wh, 2);
        var xHatLeaf = Leaf(sxHat, n, channels, h, wh, 2);
        var fkLeaf = Leaf(fk, n, h, wh, 2);
        var residual = ComplexMulFunction.Forward(xLeaf, fkLeaf.Reshape(n, 1, h, wh, 2)) - xHatLeaf;
        var perImage = (HalfSpectrum.AbsSquared(residual) * HalfSpectrum.ColumnMultiplicity(w, residual)).Sum([1, 2, 3]) * (1.0 / (h * w));
        double batch = BlurKernelFitLoss.Compute(Float64(x, n, channels, h, w), Float64(xHat, n, channels, h, w), Float64(k, n, ks, ks)).Item();
        Assert.That(perImage.Sum().Item() / n, Is.EqualTo(batch).Within(1e-5 * batch), "the leaf-spectrum expression is BlurKernelFitLoss");
        (perImage.Sum() * (g / n)).Backward();
        float[] expectedDxHat = xHatLeaf.Grad!.ToFloatArray(), expectedDfk = fkLeaf.Grad!.ToFloatArray();
        using var bx = Upload(sx);
        using var bxh = Upload(sxHat);
        using var bfk = Upload(fk);
        using var bg = Upload([g]);
        foreach (int block in ElementBlocks)
        {
            using var bdxh = Upload(Uniform(7, sxHat.Length)); // garbage: every element must be overwritten
            using var bdfk = Upload(Uniform(8, fk.Length));
            Device.BlurKernelFitBackward(bdxh, bdfk, bg, bx, bxh, bfk, n, channels, h, w, 1f / n, block);
            // A few float32 roundings per element; the residual (and dF_k's channel sum) can cancel, so the absolute
            // part scales with the largest gradient.
            AssertClose(expectedDxHat, Device.Download(bdxh), 1e-5 * MaxAbs(expectedDxHat), 1e-5, $"dX̂ (block {block})");
            AssertClose(expectedDfk, Device.Download(bdfk), 1e-5 * MaxAbs(expectedDfk), 1e-5, $"dF_k (block {block})");
        }
    }

    [TestCaseSource(nameof(SpectrumCases))]
    public void BlurKernelFitBackwardChainsToTheGradientsOfBlurKernelFitLoss(int n, int channels, int h, int w, int ks)
    {
        // End to end: dX̂ and dF_k pulled back through the (unnormalised) Rfft2 adjoints and the embedding's adjoint
        // give BlurKernelFitLoss's own autograd gradients w.r.t. x̂ and k.
        var (x, xHat, k) = FitInputs(n, channels, h, w, ks);
        var (sx, sxHat, fk) = FitSpectra(x, xHat, k, n, channels, h, w, ks);
        var xHatLeaf = Leaf(xHat, n, channels, h, w);
        var kLeaf = Leaf(k, n, ks, ks);
        (BlurKernelFitLoss.Compute(Float64(x, n, channels, h, w), xHatLeaf, kLeaf) * UpstreamGrad).Backward();
        float[] expectedDxHat = xHatLeaf.Grad!.ToFloatArray(), expectedDk = kLeaf.Grad!.ToFloatArray();

        using var bx = Upload(sx);
        using var bxh = Upload(sxHat);
        using var bfk = Upload(fk);
        using var bg = Upload([UpstreamGrad]);
        using var bdxh = Device.Allocate(sxHat.Length);
        using var bdfk = Device.Allocate(fk.Length);
        Device.BlurKernelFitBackward(bdxh, bdfk, bg, bx, bxh, bfk, n, channels, h, w, 1f / n);
        AssertClose(expectedDxHat, PullBackThroughRfft2(bdxh, FftNorm.Backward, n, channels, h, w), 1e-5 * MaxAbs(expectedDxHat), 1e-4, "dx̂");
        AssertClose(expectedDk, PullBackToBlurKernel(bdfk, n, ks, h, w), 1e-5 * MaxAbs(expectedDk), 1e-4, "dk");
    }

    [Test]
    public void LauncherRejectsBadSizes()
    {
        using var b = Device.Allocate(512);
        using var l = Device.Allocate(1);
        Assert.Throws<ArgumentException>(() => Device.BlurKernelFitForward(l, b, b, b, b, 3, 3, 8, 8, 1f));          // x too short (3·3·8·5·2)
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BlurKernelFitForward(l, b, b, b, b, 1, 1, 4, 4, 1f, 48)); // not a multiple of 32
    }

    // dL/dloss[0]: not 1, so a backward that ignores the upstream gradient fails.
    private const float UpstreamGrad = 1.3f;

    // x, x̂ in [−1, 1]; kernels positive and normalised per image (as G_γ makes them).
    private static (float[] X, float[] XHat, float[] K) FitInputs(int n, int channels, int h, int w, int ks)
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

    // X = rfft2(x), X̂ = rfft2(x̂) and F_k = rfft2(Embed(k)), all unnormalised, as BlurKernelFitLoss.Blur takes them.
    private static (float[] X, float[] XHat, float[] Fk) FitSpectra(float[] x, float[] xHat, float[] k, int n, int channels, int h, int w, int ks) =>
        (Float64(x, n, channels, h, w).Rfft2(FftNorm.Backward).ToFloatArray(),
         Float64(xHat, n, channels, h, w).Rfft2(FftNorm.Backward).ToFloatArray(),
         BlurKernelOtf.Compute(Float64(k, n, ks, ks), h, w).ToFloatArray());
}
