using BlurVae.Kernels;
using BlurVae.Kernels.Cpu;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class Conv2dParityTests
{
    // Both sides sum the same products in a different order (the CPU's blocked SIMD GEMM against the kernels'
    // per-thread K-loop). With |inputs| ≤ 1 the float32 rounding error of a sum of `terms` products grows like
    // sqrt(terms)·2^-24·(partial sums ≤ terms), far below 1e-4·sqrt(terms) for these sizes.
    private static double Atol(int terms) => 1e-4 * Math.Sqrt(terms);
    private const double Rtol = 1e-4;

    /// <summary>(N, Cin, H, W, Cout, K, stride, pad): one pixel of output, odd sizes with padding, stride 2 with an
    /// uneven output, the decoder's k4 s2 p1, and channel counts crossing the 32-wide tiles.</summary>
    private static readonly int[][] Shapes =
    [
        [1, 1, 5, 5, 1, 3, 1, 0],
        [3, 5, 7, 6, 4, 3, 1, 1],
        [3, 5, 7, 6, 4, 3, 2, 1],
        [2, 3, 9, 8, 7, 4, 2, 1],
        [3, 17, 5, 5, 33, 3, 2, 1],
    ];

    public static IEnumerable<ConvGeometry> Geometries()
    {
        foreach (var s in Shapes) yield return ConvGeometry.ForConv(s[0], s[1], s[2], s[3], s[4], s[5], s[5], s[6], s[7]);
        // The decoder's ConvTranspose2d(3 → 7, k4, s2, p1) of a 9×8 map, whose forward pass is this geometry's
        // backward-input pass (and a 5×5 input, 2 → 33 channels, k3 s2 p1 with output padding 1).
        yield return ConvGeometry.ForTransposed(2, 3, 9, 8, 7, 4, 4, 2, 1, 0);
        yield return ConvGeometry.ForTransposed(1, 33, 5, 5, 2, 3, 3, 2, 1, 1);
    }

    /// <summary>(blockX, blockY): 1, 2×2, 4×1, 1×4 and 4×4 outputs per thread of the 32×32 tile.</summary>
    public static readonly int[][] Blocks = [[32, 32], [16, 16], [8, 32], [32, 8], [8, 8]];

    [Test, Combinatorial]
    public void Forward([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Blocks))] int[] block, [Values] bool withBias)
    {
        int seed = g.GetHashCode() ^ block[0] * 31 ^ block[1];
        float[] x = Uniform(seed, g.InputLength), w = Uniform(seed + 1, g.WeightLength), bias = Uniform(seed + 2, g.OutChannels);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dForward(b[0], b[1], b[2], withBias ? b[3] : null, g),
                                 new float[g.OutputLength], x, w, bias)[0];
        using var by = Device.Allocate(g.OutputLength);
        using var bx = Upload(x);
        using var bw = Upload(w);
        using var bb = Upload(bias);
        Device.Conv2dForward(by, bx, bw, withBias ? bb : null, g, block[0], block[1]);
        AssertClose(expected, Device.Download(by), Atol(g.InChannels * g.KernelH * g.KernelW), Rtol, "y");
    }

    [Test, Combinatorial]
    public void BackwardInput([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Blocks))] int[] block)
    {
        int seed = g.GetHashCode() ^ block[0] * 37 ^ block[1];
        float[] dy = Uniform(seed, g.OutputLength), w = Uniform(seed + 1, g.WeightLength);
        // dx starts as garbage: the kernel must overwrite it, as the CPU backend does.
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dBackwardInput(b[0], b[1], b[2], g),
                                 Uniform(seed + 2, g.InputLength), dy, w)[0];
        using var bdx = Upload(Uniform(seed + 3, g.InputLength));
        using var bdy = Upload(dy);
        using var bw = Upload(w);
        Device.Conv2dBackwardInput(bdx, bdy, bw, g, block[0], block[1]);
        AssertClose(expected, Device.Download(bdx), Atol(g.OutChannels * g.KernelH * g.KernelW), Rtol, "dx");
    }

    [Test, Combinatorial]
    public void BackwardWeight([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Blocks))] int[] block)
    {
        int seed = g.GetHashCode() ^ block[0] * 41 ^ block[1];
        float[] dy = Uniform(seed, g.OutputLength), x = Uniform(seed + 1, g.InputLength);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dBackwardWeight(b[0], null, b[1], b[2], g),
                                 Uniform(seed + 2, g.WeightLength), dy, x)[0];
        using var bdw = Upload(Uniform(seed + 3, g.WeightLength));
        using var bdy = Upload(dy);
        using var bx = Upload(x);
        Device.Conv2dBackwardWeight(bdw, bdy, bx, g, block[0], block[1]);
        AssertClose(expected, Device.Download(bdw), Atol(g.N * g.OutH * g.OutW), Rtol, "dw");
    }

    [Test, Combinatorial]
    public void BackwardBias([ValueSource(nameof(Geometries))] ConvGeometry g, [Values(32, 64, 256)] int block)
    {
        int seed = g.GetHashCode() ^ block;
        float[] dy = Uniform(seed, g.OutputLength), x = Uniform(seed + 1, g.InputLength);
        float[][] cpu = OnCpu(b => CpuBackend.Instance.Conv2dBackwardWeight(b[0], b[1], b[2], b[3], g),
                              new float[g.WeightLength], new float[g.OutChannels], dy, x);
        using var bdb = Upload(Uniform(seed + 2, g.OutChannels));
        using var bdy = Upload(dy);
        Device.Conv2dBackwardBias(bdb, bdy, g, block);
        AssertClose(cpu[1], Device.Download(bdb), Atol(g.N * g.OutH * g.OutW), Rtol, "db");
    }

    [Test]
    public void RejectsBadBlocksAndShortBuffers()
    {
        var g = ConvGeometry.ForConv(1, 2, 5, 5, 3, 3, 3, 1, 1);
        using var y = Device.Allocate(g.OutputLength);
        using var x = Device.Allocate(g.InputLength);
        using var w = Device.Allocate(g.WeightLength);
        using var shortW = Device.Allocate(g.WeightLength - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Conv2dForward(y, x, w, null, g, 12, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Conv2dBackwardInput(x, y, w, g, 16, 64));
        Assert.Throws<ArgumentException>(() => Device.Conv2dBackwardWeight(shortW, y, x, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Conv2dBackwardBias(w, y, g, 48));
        // An output size that the input does not produce would make the kernels read past x.
        Assert.Throws<ArgumentException>(() => Device.Conv2dForward(y, x, w, null, g with { OutH = 6 }, 16, 16));
    }
}
