using static BlurVae.Tests.Parity.KernelParity;

namespace BlurVae.Tests.Parity;

/// <summary>
/// The host emulation of WMMA (kernels/host/wmma_host.h) against a scalar reference, through emu_wmma_kernel and
/// emu_float_to_tf32_kernel (kernels/host/selftest.cuh): every operand layout, two warps per block (separate
/// exchanges), TF32 rounding (nearest, ties away) and the tensor cores' truncation of unrounded inputs.
/// </summary>
[TestFixture, Category("Parity")]
public class WmmaEmulatorTests
{
    private static readonly EmulatedDevice Device = new();
    private const int Ld = 20, Tile = 16 * Ld, Warps = 2;

    private static float Bits(uint u) => BitConverter.UInt32BitsToSingle(u);
    private static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);

    /// <summary>cvt.rna.tf32.f32: 10 mantissa bits, to nearest, ties away from zero; inf and NaN unchanged.</summary>
    private static float RoundTf32(float f) =>
        float.IsFinite(f) ? Bits((Bits(f) + 0x1000u) & 0xffffe000u) : f;

    private static float TruncateTf32(float f) => Bits(Bits(f) & 0xffffe000u);

    [Test]
    public void FloatToTf32RoundsToNearestWithTiesAwayFromZero()
    {
        float[] x =
        [
            1.0f, Bits(0x3f800fffu), Bits(0x3f801000u), Bits(0x3f801001u), Bits(0xbf801000u), Bits(0x3f802000u),
            Bits(0x3fffffffu), float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f,
            float.Epsilon, 1e-40f, 3.14159265f, -2.7182818f,
        ];
        float[] expected =
        [
            1.0f, 1.0f, Bits(0x3f802000u), Bits(0x3f802000u), Bits(0xbf802000u), Bits(0x3f802000u),
            2.0f, float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f,
            0f, Bits(0x00012000u), Bits(0x40490000u), Bits(0xc02e0000u),
        ];
        using var bx = Upload(x);
        using var by = Device.Allocate(x.Length);
        Device.Launch("emu_float_to_tf32_kernel", new Dim3(1), new Dim3(32), by, bx, x.Length);
        float[] y = Device.Download(by);
        for (int i = 0; i < x.Length; i++)
            Assert.That(Bits(y[i]), Is.EqualTo(Bits(expected[i])), $"x = {x[i]:R} (0x{Bits(x[i]):x8})");
        using var nan = Upload([float.NaN]);
        Device.Launch("emu_float_to_tf32_kernel", new Dim3(1), new Dim3(32), by, nan, 1);
        Assert.That(float.IsNaN(Device.Download(by)[0]));
    }

    [TestCase(false, false, false, true), TestCase(true, false, false, true), TestCase(false, true, true, true),
     TestCase(true, true, false, true), TestCase(false, false, true, false), TestCase(true, true, true, false)]
    public void MmaMatchesTheScalarReferenceForEveryLayout(bool aCol, bool bCol, bool dCol, bool round)
    {
        const float c0 = 0.375f, alpha = -1.5f;
        float[] a = Uniform(11, Warps * Tile), b = Uniform(12, Warps * Tile);
        using var ba = Upload(a);
        using var bb = Upload(b);
        using var bd = Device.Allocate(Warps * Tile);
        Device.Launch("emu_wmma_kernel", new Dim3(3), new Dim3(32 * Warps), bd, ba, bb, c0, alpha,
                      aCol ? 1 : 0, bCol ? 1 : 0, dCol ? 1 : 0, round ? 1 : 0);
        float[] d = Device.Download(bd);
        Func<float, float> input = round ? RoundTf32 : TruncateTf32; // unrounded inputs: the tensor cores drop the low bits
        for (int w = 0; w < Warps; w++)
            for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                {
                    double s = 0;
                    for (int k = 0; k < 16; k++)
                    {
                        float av = a[w * Tile + (aCol ? k * Ld + r : r * Ld + k)], bv = b[w * Tile + (bCol ? c * Ld + k : k * Ld + c)];
                        s += (double)input(av) * input(bv);
                    }
                    float got = d[w * Tile + (dCol ? c * Ld + r : r * Ld + c)];
                    // FP32 accumulation of 16 products of magnitude ≤ 1: a few ulps of 16.
                    Assert.That(got, Is.EqualTo(alpha * s + c0).Within(2e-5), $"warp {w} d[{r},{c}]");
                }
        double worst = 0;
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 16; c++)
            {
                double exact = 0;
                for (int k = 0; k < 16; k++)
                    exact += (double)a[aCol ? k * Ld + r : r * Ld + k] * b[bCol ? c * Ld + k : k * Ld + c];
                worst = Math.Max(worst, Math.Abs(alpha * exact + c0 - d[dCol ? c * Ld + r : r * Ld + c]));
            }
        Assert.That(worst, Is.GreaterThan(1e-4), "the result must show TF32's 10-bit inputs, not FP32 products");
    }

    [Test]
    public void MmaNeedsFullWarps()
    {
        using var buf = Device.Allocate(Warps * Tile);
        var e = Assert.Throws<EmulatedLaunchException>(() =>
            Device.Launch("emu_wmma_kernel", new Dim3(1), new Dim3(48), buf, buf, buf, 0f, 1f, 0, 0, 0, 1));
        Assert.That(e!.Error, Is.EqualTo(HostLaunchError.InvalidConfiguration));
        Assert.That(e.Message, Does.Contain("full warps"));
    }
}
