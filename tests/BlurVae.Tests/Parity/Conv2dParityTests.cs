using BlurVae.Training.SelfTest;
using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// Every convolution kernel of kernels/conv.cuh (3 passes × 3 tiles × fp32/tf32, with and without split-K, and the
/// split-K reductions) against the CPU backend, on awkward shapes: 1, 3 and odd channel counts, stride 1 and 2,
/// padding 0/1/2, kernels 3, 4 and 5, a transposed convolution with output padding, batch 1, 2, 3 and 5.
/// </summary>
[TestFixture, Category("Parity")]
public class Conv2dParityTests
{
    // Each output sums `terms` products of values in [-1, 1]: the parity suites' one rule for sums,
    // Tolerance.OfConv (BlurVae.Training/SelfTest/Tolerance.cs), in FP32 or, for the tensor-core kernels, TF32.
    private static Tolerance Tol(MathPrecision math, int terms) => Tolerance.OfConv(terms, math);

    /// <summary>(N, Cin, H, W, Cout, K, stride, pad).</summary>
    private static readonly int[][] Shapes =
    [
        [1, 1, 5, 5, 1, 3, 1, 0],   // one channel each way, no padding
        [3, 5, 7, 6, 4, 3, 1, 1],   // odd sizes, stride 1
        [2, 3, 9, 8, 7, 4, 2, 1],   // the encoder's k4 s2 p1 on 3 input channels (P = Cin·k² = 48)
        [5, 17, 5, 5, 33, 3, 2, 1], // batch 5, channel counts crossing tiles, stride 2 with an uneven output
        [1, 6, 8, 7, 3, 5, 2, 2],   // 3 output channels (thin M), k5 s2 p2
    ];

    public static IEnumerable<ConvGeometry> Geometries()
    {
        foreach (var s in Shapes) yield return ConvGeometry.ForConv(s[0], s[1], s[2], s[3], s[4], s[5], s[5], s[6], s[7]);
        // ConvTranspose2d(3 → 2, k3, s2, p1, output padding 1) of a 5×5 map: its forward is this geometry's backward input.
        yield return ConvGeometry.ForTransposed(1, 3, 5, 5, 2, 3, 3, 2, 1, 1);
    }

    /// <summary>Every compiled kernel without split-K, and split in 3 (the partial-writing epilogue and the reduction)
    /// on the 64×32 and 16×128 tiles, whose SIMT and WMMA epilogues differ from the 128×64 one only in constants.</summary>
    public static IEnumerable<ConvAlgorithm> Algorithms()
    {
        foreach (var math in new[] { MathPrecision.Fp32, MathPrecision.Tf32 })
            foreach (var tile in Enum.GetValues<ConvTile>())
            {
                yield return new ConvAlgorithm(tile, math, 1);
                if (tile != ConvTile.Large) yield return new ConvAlgorithm(tile, math, 3);
            }
    }

    [Test, Combinatorial]
    public void Forward([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Algorithms))] ConvAlgorithm a)
    {
        bool withBias = a.Splits == 1 ^ g.N % 2 == 0; // bias through both epilogues: the GEMM's and the reduction's
        int seed = g.GetHashCode() ^ a.GetHashCode();
        float[] x = Uniform(seed, g.InputLength), w = Uniform(seed + 1, g.WeightLength), bias = Uniform(seed + 2, g.OutChannels);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dForward(b[0], b[1], b[2], withBias ? b[3] : null, g),
                                 new float[g.OutputLength], x, w, bias)[0];
        using var by = Upload(Uniform(seed + 3, g.OutputLength)); // garbage: the kernel must overwrite all of y
        using var bx = Upload(x);
        using var bw = Upload(w);
        using var bb = Upload(bias);
        Device.Conv2dForward(by, bx, bw, withBias ? bb : null, g, a);
        AssertClose(expected, Device.Download(by), Tol(a.Math, g.InChannels * g.KernelH * g.KernelW), $"y ({a})");
    }

    [Test, Combinatorial]
    public void BackwardInput([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Algorithms))] ConvAlgorithm a)
    {
        int seed = g.GetHashCode() ^ a.GetHashCode() * 37;
        float[] dy = Uniform(seed, g.OutputLength), w = Uniform(seed + 1, g.WeightLength);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dBackwardInput(b[0], b[1], b[2], g),
                                 Uniform(seed + 2, g.InputLength), dy, w)[0];
        using var bdx = Upload(Uniform(seed + 3, g.InputLength)); // every phase must overwrite its pixels
        using var bdy = Upload(dy);
        using var bw = Upload(w);
        Device.Conv2dBackwardInput(bdx, bdy, bw, g, a);
        AssertClose(expected, Device.Download(bdx), Tol(a.Math, g.OutChannels * g.KernelH * g.KernelW), $"dx ({a})");
    }

    [Test, Combinatorial]
    public void BackwardWeight([ValueSource(nameof(Geometries))] ConvGeometry g, [ValueSource(nameof(Algorithms))] ConvAlgorithm a)
    {
        int seed = g.GetHashCode() ^ a.GetHashCode() * 41;
        float[] dy = Uniform(seed, g.OutputLength), x = Uniform(seed + 1, g.InputLength);
        float[] expected = OnCpu(b => CpuBackend.Instance.Conv2dBackwardWeight(b[0], null, b[1], b[2], g),
                                 Uniform(seed + 2, g.WeightLength), dy, x)[0];
        using var bdw = Upload(Uniform(seed + 3, g.WeightLength));
        using var bdy = Upload(dy);
        using var bx = Upload(x);
        Device.Conv2dBackwardWeight(bdw, bdy, bx, g, a);
        AssertClose(expected, Device.Download(bdw), Tol(a.Math, g.N * g.OutH * g.OutW), $"dw ({a})");
    }

    [Test]
    public void Tf32KernelsReallyRoundTheirInputs()
    {
        // The same product through the fp32 and the tf32 kernel: equal up to FP32 reordering would mean no TF32.
        var g = ConvGeometry.ForConv(2, 16, 6, 6, 8, 3, 3, 1, 1);
        float[] x = Uniform(5, g.InputLength), w = Uniform(6, g.WeightLength);
        using var bx = Upload(x);
        using var bw = Upload(w);
        using var y32 = Device.Allocate(g.OutputLength);
        using var y19 = Device.Allocate(g.OutputLength);
        Device.Conv2dForward(y32, bx, bw, null, g, new ConvAlgorithm(ConvTile.Small, MathPrecision.Fp32, 1));
        Device.Conv2dForward(y19, bx, bw, null, g, new ConvAlgorithm(ConvTile.Small, MathPrecision.Tf32, 1));
        float[] a = Device.Download(y32), b = Device.Download(y19);
        double worst = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
        Assert.That(worst, Is.GreaterThan(1e-4).And.LessThan(Tol(MathPrecision.Tf32, g.InChannels * 9).Atol));
    }

    [Test, Combinatorial]
    public void BackwardBias([ValueSource(nameof(Geometries))] ConvGeometry g, [Values(32, 256)] int block)
    {
        int seed = g.GetHashCode() ^ block;
        float[] dy = Uniform(seed, g.OutputLength), x = Uniform(seed + 1, g.InputLength);
        float[][] cpu = OnCpu(b => CpuBackend.Instance.Conv2dBackwardWeight(b[0], b[1], b[2], b[3], g),
                              new float[g.WeightLength], new float[g.OutChannels], dy, x);
        using var bdb = Upload(Uniform(seed + 2, g.OutChannels));
        using var bdy = Upload(dy);
        Device.Conv2dBackwardBias(bdb, bdy, g, block);
        AssertClose(cpu[1], Device.Download(bdb), Tol(MathPrecision.Fp32, g.N * g.OutH * g.OutW), "db");
    }

    [Test]
    public void RejectsBadAlgorithmsAndShortBuffers()
    {
        var g = ConvGeometry.ForConv(1, 2, 5, 5, 3, 3, 3, 1, 1);
        using var y = Device.Allocate(g.OutputLength);
        using var x = Device.Allocate(g.InputLength);
        using var w = Device.Allocate(g.WeightLength);
        using var shortW = Device.Allocate(g.WeightLength - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Conv2dForward(y, x, w, null, g, new ConvAlgorithm(ConvTile.Small, MathPrecision.Fp32, 0)));
        Assert.Throws<ArgumentException>(() => Device.Conv2dBackwardWeight(shortW, y, x, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Conv2dBackwardBias(w, y, g, 48));
        // An output size that the input does not produce would make the kernels read past x.
        Assert.Throws<ArgumentException>(() => Device.Conv2dForward(y, x, w, null, g with { OutH = 6 }));
    }
}
