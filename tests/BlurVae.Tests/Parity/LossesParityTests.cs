using System.Reflection;
using static BlurVae.Tests.Parity.KernelParity;
using static BlurVae.Tests.Parity.WienerParityTests;

namespace BlurVae.Tests.Parity;

/// <summary>
/// The kernel of kernels/losses.cuh against the C# it replaces: focal_frequency_weight_kernel against
/// FocalFrequencyLoss's host weight, from the CPU backend's Rfft2 of the images rounded to float32.
/// </summary>
[TestFixture, Category("Parity")]
public class LossesParityTests
{
    // One block per plane: multiples of 32.
    private static readonly int[] ReduceBlocks = [32, 96, 1024];

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


    [Test]
    public void LaunchersRejectBadSizes()
    {
        using var b = Device.Allocate(512);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.FocalFrequencyWeight(b, b, 1, 1, 4, 4, -1f));
    }

    // ---- data ----

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
