using System.Reflection;
using BlurVae.Training.Engine.Autograd;
using BlurVae.Training.Losses;
using BlurVae.Training.Engine.Tensors;
using static BlurVae.Tests.Parity.KernelParity;
using static BlurVae.Tests.Parity.WienerParityTests;

namespace BlurVae.Tests.Parity;

/// <summary>
/// The kernels of kernels/losses.cuh against the C# losses they replace (L1Loss, BceLoss, FocalFrequencyLoss): values per image and tape-autograd gradients, evaluated in float64 on the CPU backend from the
/// same float32 inputs the kernels get. Backwards get a different dloss per image, so a kernel that reads the wrong
/// image's dloss fails. Spectra are the CPU backend's Rfft2 of the images and kernels, rounded to float32.
/// </summary>
[TestFixture, Category("Parity")]
public class LossesParityTests
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

    // (n, size = C·H·W): one element, less than a warp, 3·7·9, one past 2^12.
    private static readonly object[] ImageCases =
    [
        new object[] { 1, 1 },
        new object[] { 3, 31 },
        new object[] { 3, 189 },
        new object[] { 1, 4097 },
    ];

    // One-block-per-image (or plane) kernels need multiples of 32; the per-element kernels take any block.
    private static readonly int[] ReduceBlocks = [32, 96, 1024];
    private static readonly int[] ElementBlocks = [1, 33, 1024];

    // ---- L1Loss ----

    [TestCaseSource(nameof(ImageCases))]
    public void L1MatchesL1LossAndItsGradient(int n, int size)
    {
        float[] x = Uniform(size * 3 + n, n * size), xHat = Uniform(size * 5 + n, n * size);
        for (int j = 0; j < x.Length; j += 7) xHat[j] = x[j]; // ties: the subgradient there is 0
        float[] g = PerImageGrad(n);
        var xHatLeaf = Leaf(xHat, n, size);
        var perImage = new float[n];
        Tensor? total = null;
        for (int i = 0; i < n; i++)
        {
            var li = L1Loss.Compute(Float64(x, n, size).Narrow(0, i, 1), xHatLeaf.Narrow(0, i, 1));
            perImage[i] = (float)li.Item();
            total = total is null ? li * g[i] : total + li * g[i];
        }
        total!.Backward();
        float[] expected = xHatLeaf.Grad!.ToFloatArray();
        using var bx = Upload(x);
        using var bxh = Upload(xHat);
        using var bg = Upload(g);
        foreach (int block in ReduceBlocks)
        {
            using var bloss = Device.Allocate(n);
            Device.L1Forward(bloss, bx, bxh, n, size, block);
            // |x − x̂| of float32 inputs is exact in float64 and rounded once in float32; the sum order differs.
            AssertClose(perImage, Device.Download(bloss), 1e-6, 1e-6, $"per-image L1 (block {block})");
        }
        foreach (int block in ElementBlocks)
        {
            using var bd = Upload(Uniform(9, x.Length));
            Device.L1Backward(bd, bg, bx, bxh, n, size, block);
            AssertClose(expected, Device.Download(bd), 0, 0, $"dx̂ (block {block})"); // ±g or 0: exact
        }
    }

    // ---- BceLoss ----

    [TestCaseSource(nameof(ImageCases))]
    public void BceMatchesBceLossAndItsGradient(int n, int size)
    {
        float[] x = Uniform(size * 11 + n, n * size), xHat = Uniform(size * 13 + n, n * size, -0.999f, 0.999f);
        // Saturated reconstructions (a tanh at ±1 and one float32 step inside): the clamp is active, the gradient 0.
        float[] saturated = [1f, -1f, 0.99999994f, -0.99999994f, 0.9999f, -0.9999f];
        for (int j = 0, s = 0; j < xHat.Length; j += 5, s++) xHat[j] = saturated[s % saturated.Length];
        float[] g = PerImageGrad(n);
        var xHatLeaf = Leaf(xHat, n, size);
        var perImage = new float[n];
        Tensor? total = null;
        for (int i = 0; i < n; i++)
        {
            var li = BceLoss.Compute(Float64(x, n, size).Narrow(0, i, 1), xHatLeaf.Narrow(0, i, 1));
            perImage[i] = (float)li.Item();
            total = total is null ? li * g[i] : total + li * g[i];
        }
        total!.Backward();
        float[] expected = xHatLeaf.Grad!.ToFloatArray();
        using var bx = Upload(x);
        using var bxh = Upload(xHat);
        using var bg = Upload(g);
        foreach (int block in ReduceBlocks)
        {
            using var bloss = Device.Allocate(n);
            Device.BceForward(bloss, bx, bxh, n, size, (float)BceLoss.Epsilon, block);
            // float32 logs (relative 1e-7) of terms up to −log ε ≈ 16, summed in another order; the float32 clamp
            // bound 1 − ε differs from float64's by 2e-8 in the log.
            AssertClose(perImage, Device.Download(bloss), 1e-5, 1e-5, $"per-image BCE (block {block})");
        }
        foreach (int block in ElementBlocks)
        {
            using var bd = Upload(Uniform(10, x.Length));
            Device.BceBackward(bd, bg, bx, bxh, n, size, (float)BceLoss.Epsilon, block);
            // t/p − (1 − t)/(1 − p) in float32: a few roundings, up to ~1e4 near the clamp; exact zeros where it is active.
            AssertClose(expected, Device.Download(bd), 1e-6, 1e-5, $"dx̂ (block {block})");
        }
    }

    // ---- FocalFrequencyLoss ----

    [TestCase(1, 1, 7, 9, 1.0), TestCase(3, 3, 7, 9, 1.0), TestCase(3, 1, 8, 8, 2.0), TestCase(1, 3, 16, 10, 0.5), TestCase(3, 3, 32, 32, 1.0), TestCase(3, 2, 6, 5, 0.0)]
    public void FocalFrequencyWeightMatchesTheHostWeight(int n, int channels, int h, int w, double alpha)
    {
        var (x, xHat) = FocalInputs(n, channels, h, w);
        float[] d = ErrorSpectrum(x, xHat, n, channels, h, w);
        // FocalFrequencyLoss's own (private) weight on the CPU backend, from the float64 copy of the same rounded spectrum.
        var spectrum = Float64(d, n, channels, h, w / 2 + 1, 2);
        var focalWeight = typeof(FocalFrequencyLoss).GetMethod("FocalWeight", BindingFlags.NonPublic | BindingFlags.Static)
                          ?? throw new MissingMethodException(nameof(FocalFrequencyLoss), "FocalWeight");
        float[] expected = ((Tensor)focalWeight.Invoke(null, [spectrum, alpha, w])!).ToFloatArray();
        using var bd = Upload(d);
        foreach (int block in ReduceBlocks)
        {
            using var bw = Upload(Uniform(11, expected.Length));
            Device.FocalFrequencyWeight(bw, bd, n, channels, h, w, (float)alpha, block);
            // powf(sqrtf(·), α)/max in float32: a few roundings of values in [0, 2]; all-zero planes give exact 0.
            AssertClose(expected, Device.Download(bw), 1e-6, 1e-5, $"weight (block {block})");
        }
    }

    [TestCase(1, 1, 7, 9, 1.0), TestCase(3, 3, 7, 9, 1.0), TestCase(3, 1, 8, 8, 2.0), TestCase(1, 3, 16, 10, 0.5), TestCase(3, 3, 32, 32, 1.0)]
    public void FocalFrequencyForwardMatchesFocalFrequencyLoss(int n, int channels, int h, int w, double alpha)
    {
        var (x, xHat) = FocalInputs(n, channels, h, w);
        float[] d = ErrorSpectrum(x, xHat, n, channels, h, w);
        var perImage = new float[n];
        for (int i = 0; i < n; i++)
            perImage[i] = (float)FocalFrequencyLoss.Compute(Float64(x, n, channels, h, w).Narrow(0, i, 1), Float64(xHat, n, channels, h, w).Narrow(0, i, 1), alpha).Item();
        double batch = FocalFrequencyLoss.Compute(Float64(x, n, channels, h, w), Float64(xHat, n, channels, h, w), alpha).Item();
        using var bd = Upload(d);
        using var bw = Device.Allocate(n * channels * h * (w / 2 + 1));
        foreach (int block in ReduceBlocks)
        {
            using var bloss = Device.Allocate(n);
            Device.FocalFrequencyWeight(bw, bd, n, channels, h, w, (float)alpha, block);
            Device.FocalFrequencyForward(bloss, bw, bd, n, channels, h, w, block);
            float[] loss = Device.Download(bloss);
            // float32 weights and |ΔF|² (rounded spectra), a float32 sum of positive terms.
            AssertClose(perImage, loss, 1e-7, 2e-5, $"per-image FFL (block {block})");
            Assert.That(loss.Sum(v => (double)v) / n, Is.EqualTo(batch).Within(2e-5 * batch + 1e-7), $"batch FFL (block {block})");
        }
    }

    [TestCase(1, 1, 7, 9, 1.0), TestCase(3, 3, 7, 9, 1.0), TestCase(3, 1, 8, 8, 2.0), TestCase(3, 3, 32, 32, 1.0)]
    public void FocalFrequencyBackwardChainsToTheGradientOfFocalFrequencyLoss(int n, int channels, int h, int w, double alpha)
    {
        var (x, xHat) = FocalInputs(n, channels, h, w);
        float[] d = ErrorSpectrum(x, xHat, n, channels, h, w);
        float[] g = PerImageGrad(n);
        var xHatLeaf = Leaf(xHat, n, channels, h, w);
        Tensor? total = null;
        for (int i = 0; i < n; i++)
        {
            var term = FocalFrequencyLoss.Compute(Float64(x, n, channels, h, w).Narrow(0, i, 1), xHatLeaf.Narrow(0, i, 1), alpha) * g[i];
            total = total is null ? term : total + term;
        }
        total!.Backward();
        float[] expected = xHatLeaf.Grad!.ToFloatArray();
        using var bd = Upload(d);
        using var bg = Upload(g);
        using var bw = Device.Allocate(n * channels * h * (w / 2 + 1));
        Device.FocalFrequencyWeight(bw, bd, n, channels, h, w, (float)alpha);
        float[] weight = Device.Download(bw);
        foreach (int block in ElementBlocks)
        {
            using var bdd = Upload(Uniform(12, d.Length));
            Device.FocalFrequencyBackward(bdd, bg, bw, bd, n, channels, h, w, block);
            float[] dd = Device.Download(bdd);
            // On the spectrum: autograd of Σ_i g_i Σ w|D|²/(CHW) with the device's (detached) weight.
            var dLeaf = Leaf(d, n, channels, h, w / 2 + 1, 2);
            var perImage = (HalfSpectrum.AbsSquared(dLeaf) * Float64(weight, n, channels, h, w / 2 + 1)).Sum([1, 2, 3]) * (1.0 / (channels * h * w));
            (perImage * Float64(g, n)).Sum().Backward();
            AssertClose(dLeaf.Grad!.ToFloatArray(), dd, 1e-6 * MaxAbs(dd), 1e-5, $"dD (block {block})");
            // End to end: the orthonormal Rfft2 adjoint of dD is FocalFrequencyLoss's gradient w.r.t. x̂.
            var image = Leaf(new float[xHat.Length], n, channels, h, w);
            image.Rfft2(FftNorm.Ortho).Backward(Float64(dd, n, channels, h, w / 2 + 1, 2));
            AssertClose(expected, image.Grad!.ToFloatArray(), 1e-5 * MaxAbs(expected), 1e-4, $"dx̂ (block {block})");
        }
    }

    [Test]
    public void LaunchersRejectBadSizes()
    {
        using var b = Device.Allocate(512);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.L1Forward(b, b, b, 1, 0));
        Assert.Throws<ArgumentException>(() => Device.L1Backward(b, b, b, b, 2, 300));                   // 600 > 512
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.BceForward(b, b, b, 1, 8, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.FocalFrequencyWeight(b, b, 1, 1, 4, 4, -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.FocalFrequencyBackward(b, b, b, b, 1, 0, 4, 4));
    }

    // ---- data ----

    // dL/dloss[i]: distinct per image.
    private static float[] PerImageGrad(int n) => Uniform(n * 17 + 1, n, 0.5f, 1.5f);

    // Images whose last channel of image 0 is reconstructed exactly: an all-zero error plane (weight 0/0 → 0).
    private static (float[] X, float[] XHat) FocalInputs(int n, int channels, int h, int w)
    {
        float[] x = Uniform(n * 300 + h * w + channels, n * channels * h * w), xHat = Uniform(n * 400 + h + w, x.Length);
        if (channels > 1) Array.Copy(x, (channels - 1) * h * w, xHat, (channels - 1) * h * w, h * w);
        return (x, xHat);
    }

    // ΔF = rfft2_ortho(x̂ − x), as FocalFrequencyLoss takes it.
    private static float[] ErrorSpectrum(float[] x, float[] xHat, int n, int channels, int h, int w) =>
        (Float64(xHat, n, channels, h, w) - Float64(x, n, channels, h, w)).Rfft2(FftNorm.Ortho).ToFloatArray();
}
