using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class ShapeParityTests
{
    // (big shape, small shape): SumTo reduces big → small, BroadcastTo repeats small → big.
    public static readonly object[] Cases =
    [
        new object[] { new[] { 3, 5, 7 }, new[] { 1, 5, 1 } },
        new object[] { new[] { 2, 3, 4 }, new[] { 2, 1, 4 } },
        new object[] { new[] { 3, 5, 7 }, new[] { 1, 1, 1 } },
        new object[] { new[] { 2, 3, 4 }, new[] { 2, 3, 4 } },
        new object[] { new[] { 6, 33 }, new[] { 6, 1 } },
        new object[] { new[] { 1, 1000 }, new[] { 1, 1 } },
        new object[] { new[] { 3, 4, 1, 5, 2 }, new[] { 1, 4, 1, 1, 2 } },
        new object[] { new[] { 2, 3, 2, 3, 2, 3 }, new[] { 2, 1, 2, 1, 2, 1 } },
        new object[] { new[] { 2, 3, 2, 3, 2, 3 }, new[] { 1, 3, 1, 3, 1, 3 } },
        // Bias gradients: a transposed convolution's [N, C, H, W] → [1, C, 1, 1] (reduced innermost, cut into chunks)
        // and a linear layer's [N, F] → [1, F] over a long batch (kept innermost, chunked); a whole-tensor sum.
        new object[] { new[] { 5, 7, 9, 11 }, new[] { 1, 7, 1, 1 } },
        new object[] { new[] { 700, 33 }, new[] { 1, 33 } },
        new object[] { new[] { 3, 2999 }, new[] { 1, 1 } },
    ];

    private static int Count(int[] shape) => shape.Aggregate(1, (p, d) => p * d);

    // The kernel sums each output's reduced elements sequentially in row-major order; the CPU backend adds whole rows
    // or vectorised row sums. With |x| ≤ 1 either order's float32 error stays far below 2^-20 per summed element.
    [Test, Combinatorial]
    public void SumTo([ValueSource(nameof(Cases))] object[] shapes, [Values(32, 128, 1024)] int block)
    {
        int[] xShape = (int[])shapes[0], yShape = (int[])shapes[1];
        int nx = Count(xShape), ny = Count(yShape);
        float[] x = Uniform(nx + block, nx);
        float[] expected = OnCpu(b => CpuBackend.Instance.SumTo(b[0], yShape, b[1], xShape), new float[ny], x)[0];
        using var bx = Upload(x);
        using var by = Device.Allocate(ny);
        Device.SumToForward(by, yShape, bx, xShape, block);
        AssertClose(expected, Device.Download(by), Math.Pow(2, -20) * (nx / ny), 1e-5, "y");
    }

    // The reduction's block must be a power of two, so that its rows add up in a fixed tree.
    [Test]
    public void SumToRejectsABlockThatIsNotAPowerOfTwo()
    {
        using var x = Device.Allocate(24);
        using var y = Device.Allocate(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.SumToForward(y, [1, 4], x, [6, 4], 96));
    }

    // fast_div's magic numbers against integer division, at the edges of its range.
    [Test]
    public void FastDividerDividesExactly()
    {
        var rng = new Random(5);
        int[] divisors = [1, 2, 3, 7, 32, 33, 1000, 4097, 65_536, 1 << 30, int.MaxValue];
        foreach (int d in divisors)
        {
            var f = FastDivider.For(d);
            foreach (int n in new[] { 0, 1, d - 1, d, int.MaxValue, int.MaxValue - 1 }.Concat(Enumerable.Range(0, 200).Select(_ => rng.Next())))
                Assert.That(f.Divide(n), Is.EqualTo(n / d), $"{n} / {d}");
        }
    }

    // A pure copy: exact.
    [Test, Combinatorial]
    public void BroadcastTo([ValueSource(nameof(Cases))] object[] shapes, [Values(32, 128, 1024)] int block)
    {
        int[] yShape = (int[])shapes[0], xShape = (int[])shapes[1];
        int nx = Count(xShape), ny = Count(yShape);
        float[] x = Uniform(3 * nx + block, nx);
        float[] expected = OnCpu(b => CpuBackend.Instance.BroadcastTo(b[0], yShape, b[1], xShape), new float[ny], x)[0];
        using var bx = Upload(x);
        using var by = Device.Allocate(ny);
        Device.BroadcastToForward(by, yShape, bx, xShape, block);
        AssertClose(expected, Device.Download(by), 0, 0, "y");
    }

    [Test]
    public void IncompatibleShapesAreRejected()
    {
        using var x = Device.Allocate(24);
        using var y = Device.Allocate(24);
        Assert.Throws<ArgumentException>(() => Device.SumToForward(y, [2, 3], x, [2, 4]));
        Assert.Throws<ArgumentException>(() => Device.SumToForward(y, [2, 1], x, [2, 3, 4]));
        Assert.Throws<ArgumentException>(() => Device.BroadcastToForward(y, [2, 4], x, [2, 3]));
    }

    // (outer, dstAxis, dstStart, srcAxis, srcStart, length, inner): a chunk in the middle, a whole axis, a single
    // column at the end of a wide inner slab, and one outer row.
    public static readonly object[] SliceCases =
    [
        new object[] { 3, 7, 2, 5, 1, 4, 5 },
        new object[] { 1, 4, 0, 4, 0, 4, 1 },
        new object[] { 2, 10, 9, 3, 2, 1, 33 },
        new object[] { 5, 3, 1, 6, 4, 2, 129 },
    ];

    // Copies are exact and accumulation is one float addition per element on both sides.
    [Test, Combinatorial]
    public void CopyAxisSlice([ValueSource(nameof(SliceCases))] object[] c, [Values] bool accumulate, [Values(32, 256)] int block)
    {
        int outer = (int)c[0], dstAxis = (int)c[1], dstStart = (int)c[2], srcAxis = (int)c[3], srcStart = (int)c[4], length = (int)c[5], inner = (int)c[6];
        float[] dst0 = Uniform(dstAxis * inner + block, outer * dstAxis * inner);
        float[] src = Uniform(srcAxis * inner + 2 * block, outer * srcAxis * inner);
        float[] expected = OnCpu(b => CpuBackend.Instance.CopyAxisSlice(b[0], dstAxis, dstStart, b[1], srcAxis, srcStart, outer, length, inner, accumulate), dst0, src)[0];
        using var bdst = Upload(dst0);
        using var bsrc = Upload(src);
        Device.CopyAxisSlice(bdst, dstAxis, dstStart, bsrc, srcAxis, srcStart, outer, length, inner, accumulate, block);
        AssertClose(expected, Device.Download(bdst), 0, 0, "dst");
    }

    // Every element of dx written (the device buffer starts as garbage): the slab from dy, zeros elsewhere.
    [Test, Combinatorial]
    public void NarrowBackward([ValueSource(nameof(SliceCases))] object[] c, [Values(32, 256, 1024)] int block)
    {
        int outer = (int)c[0], axis = (int)c[3], start = (int)c[4], length = (int)c[5], inner = (int)c[6];
        float[] dy = Uniform(axis * inner + block, outer * length * inner);
        float[] expected = OnCpu(b => CpuBackend.Instance.NarrowBackward(b[0], axis, start, b[1], outer, length, inner), new float[outer * axis * inner], dy)[0];
        using var bdx = Upload(Uniform(block, outer * axis * inner, 5, 9));
        using var bdy = Upload(dy);
        Device.NarrowBackward(bdx, axis, start, bdy, outer, length, inner, block);
        AssertClose(expected, Device.Download(bdx), 0, 0, "dx");
    }

    // Both halves in one launch each way; a missing gradient gives zeros in its half of dx (which starts as garbage).
    [Test, Combinatorial]
    public void Split([Values(1, 3)] int outer, [Values(1, 5)] int half, [Values(1, 33, 129)] int inner, [Values] bool secondGradient, [Values(32, 1024)] int block)
    {
        int n = outer * half * inner;
        float[] x = Uniform(n + block, 2 * n), da = Uniform(2 * n + block, n), db = Uniform(3 * n + block, n);
        float[][] expected = OnCpu(b => CpuBackend.Instance.SplitForward(b[0], b[1], b[2], outer, half, inner), new float[n], new float[n], x);
        float[] expectedDx = OnCpu(b => CpuBackend.Instance.SplitBackward(b[0], b[1], secondGradient ? b[2] : null, outer, half, inner), new float[2 * n], da, db)[0];
        using var bx = Upload(x);
        using var ba = Upload(Uniform(block, n, 5, 9));
        using var bb = Upload(Uniform(block + 1, n, 5, 9));
        Device.SplitForward(ba, bb, bx, outer, half, inner, block);
        AssertClose(expected[0], Device.Download(ba), 0, 0, "a");
        AssertClose(expected[1], Device.Download(bb), 0, 0, "b");
        using var bda = Upload(da);
        using var bdb = Upload(db);
        using var bdx = Upload(Uniform(block + 2, 2 * n, 5, 9));
        Device.SplitBackward(bdx, bda, secondGradient ? bdb : null, outer, half, inner, block);
        AssertClose(expectedDx, Device.Download(bdx), 0, 0, "dx");
    }

    [Test]
    public void SliceOutsideTheAxisIsRejected()
    {
        using var dst = Device.Allocate(12);
        using var src = Device.Allocate(12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.CopyAxisSlice(dst, 4, 2, src, 4, 0, 3, 3, 1, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.CopyAxisSlice(dst, 4, 0, src, 4, 2, 3, 3, 1, false));
    }
}
