using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The cuBLAS and cuFFT conventions of <see cref="GpuDevice"/> (row-major GEMM as the column-major call on the
/// transposes, strided batches at offsets; C2R on a scratch copy because cuFFT overwrites its input) against the CPU
/// backend. On the emulated device the column-major calls go to the CPU GEMM and FFT; on a GPU to cuBLAS and cuFFT.
/// </summary>
[TestFixture, Category("Parity")]
public class GemmAndFftConventionTests
{
    private const double Atol = 1e-5, Rtol = 1e-5;

    [Test]
    public void GemmMatchesTheCpuBackendForEveryTransposeBatchOffsetAndLeadingDimension(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB, [Values(1, 3)] int batch)
    {
        const int m = 5, n = 7, k = 3, pad = 2, offset = 4;
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + 1, ldc = n + 3;
        long strideA = aRows * lda + 1, strideB = bRows * ldb, strideC = m * ldc + 2;
        var a = Uniform(1, checked((int)(offset + batch * strideA)));
        var b = Uniform(2, checked((int)(offset + batch * strideB)));
        var c = Uniform(3, checked((int)(offset + batch * strideC)));

        var expected = OnCpu(t => CpuBackend.Instance.Gemm(transA, transB, m, n, k, 0.75, t[0], offset, lda, strideA,
            t[1], offset, ldb, strideB, -0.5, t[2], offset, ldc, strideC, batch), a, b, c)[2];

        using var da = Upload(a);
        using var db = Upload(b);
        using var dc = Upload(c);
        Device.Gemm(transA, transB, m, n, k, 0.75f, da, offset, lda, strideA, db, offset, ldb, strideB, -0.5f, dc, offset, ldc, strideC, batch);
        // Elements between the matrices (padding, gaps of the strides) must be untouched: compared too.
        AssertClose(expected, Device.Download(dc), Atol, Rtol, $"gemm transA={transA} transB={transB} batch={batch}");
    }

    [Test]
    public void GemmRejectsAMatrixReachingPastItsBuffer()
    {
        using var a = Device.Allocate(6);
        using var b = Device.Allocate(6);
        using var c = Device.Allocate(3);
        var e = Assert.Throws<ArgumentException>(() => Device.Gemm(false, false, 2, 2, 3, 1, a, 0, 3, 0, b, 0, 2, 0, 0, c, 0, 2, 0));
        Assert.That(e!.Message, Does.Contain("c:").And.Contain("need 4"));
    }

    // Kept input: C2R runs on a scratch copy and the spectrum is as it was. Given-up input (overwriteInput, as Rfft2's
    // backward gives its own temporary): C2R consumes it, no device-to-device copy.
    [TestCase(1, 5, 6, false), TestCase(3, 7, 9, false), TestCase(2, 8, 1, false), TestCase(1, 5, 6, true), TestCase(3, 7, 9, true), TestCase(2, 8, 1, true)]
    public void InverseFftMatchesTheCpuBackend(int batch, int h, int w, bool overwriteInput)
    {
        int spectrum = batch * h * (w / 2 + 1) * 2;
        var x = Uniform(4, batch * h * w);
        var cpu = OnCpu(t =>
        {
            CpuBackend.Instance.Rfft2(t[1], t[0], batch, h, w);
            CpuBackend.Instance.Irfft2(t[2], t[1], batch, h, w);
        }, x, new float[spectrum], new float[batch * h * w]);

        using var dx = Upload(x);
        using var dc = Device.Allocate(spectrum);
        using var dy = Device.Allocate(batch * h * w);
        Device.Rfft2(dc, dx, batch, h, w);
        AssertClose(cpu[1], Device.Download(dc), 1e-4, Rtol, "rfft2");
        var before = Device.Counts;
        Device.Irfft2(dy, dc, batch, h, w, overwriteInput);
        var made = Device.Counts.Minus(before);
        Assert.That((made.CopiesDeviceToDevice, made.CufftCalls), Is.EqualTo((overwriteInput ? 0L : 1L, 1L)), "a scratch copy only for a kept input");
        AssertClose(cpu[2], Device.Download(dy), 1e-3, 1e-4, "irfft2");
        if (!overwriteInput) AssertClose(cpu[1], Device.Download(dc), 1e-4, Rtol, "the spectrum after irfft2 (cuFFT's C2R overwrites its input)");
    }

    [Test]
    public void CopyAndFillReachExactlyTheirRanges()
    {
        var src = Uniform(5, 10);
        using var s = Upload(src);
        using var d = Device.Allocate(12);
        Device.Fill(d, 2.5f);
        Device.Copy(d, 3, s, 2, 6);
        var expected = Enumerable.Repeat(2.5f, 12).ToArray();
        Array.Copy(src, 2, expected, 3, 6);
        Assert.That(Device.Download(d), Is.EqualTo(expected));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Copy(d, 8, s, 0, 5));
    }
}
