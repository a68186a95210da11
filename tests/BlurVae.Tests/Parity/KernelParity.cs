using BlurVae.Training.SelfTest;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>Shared pieces of the kernel parity tests: the device, random inputs, CPU references and the comparison.</summary>
internal static class KernelParity
{
    /// <summary>Awkward element counts: one element, less than a warp, not a multiple of any block, one past 2^12.</summary>
    public static readonly int[] Sizes = [1, 31, 1000, 4097];

    public static readonly int[] BlockSizes = [32, 128, 256, 1024];

    private static GpuDevice? _device;

    /// <summary>One device for the whole category (<see cref="GpuTarget"/>: the GPU when usable, else the emulation).</summary>
    public static GpuDevice Device => _device ??= GpuTarget.NewDevice();

    public static float[] Uniform(int seed, int n, float lo = -1, float hi = 1)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.NextSingle();
        return v;
    }

    public static DeviceMemory Upload(float[] data)
    {
        var b = Device.Allocate(data.Length);
        Device.Upload(b, data);
        return b;
    }

    /// <summary>Runs a CPU backend op on float32 buffers holding <paramref name="inputs"/> and returns every buffer afterwards.</summary>
    public static float[][] OnCpu(Action<BackendBuffer[]> op, params float[][] inputs)
    {
        var cpu = CpuBackend.Instance;
        var buffers = inputs.Select(a =>
        {
            var b = cpu.Allocate(DType.Float32, a.Length);
            cpu.Upload(b, a);
            return b;
        }).ToArray();
        op(buffers);
        return buffers.Select(b =>
        {
            var r = new float[b.Length];
            cpu.Download(b, r);
            return r;
        }).ToArray();
    }

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| elementwise (the parity suites' one model), naming the first element that is not.</summary>
    public static void AssertClose(float[] expected, float[] actual, Tolerance tolerance, string what) =>
        AssertClose(expected, actual, tolerance.Atol, tolerance.Rtol, what);

    /// <summary><see cref="AssertClose(float[], float[], Tolerance, string)"/> with the tolerance's two terms spelled out.</summary>
    public static void AssertClose(float[] expected, float[] actual, double atol, double rtol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i], tol = atol + rtol * Math.Abs(e);
            if (!(Math.Abs(a - e) <= tol))
                Assert.Fail($"{what}[{i}]: kernel {a:R}, CPU backend {e:R}, |diff| {Math.Abs(a - e):E3} > {tol:E3} (of {expected.Length})");
        }
    }
}
