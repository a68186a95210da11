using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class SgdParityTests
{
    // Same float operations in the same order; the tolerance only allows for a compiler contracting a·b + c into an FMA.
    private const double Atol = 1e-7, Rtol = 1e-6;

    // (momentum, dampening, weightDecay, withBuffer): plain SGD, heavy ball with dampening and L2, Nesterov-free
    // momentum without decay, and a buffer passed with momentum 0 (left untouched, as on the CPU).
    public static readonly object[] Configs =
    [
        new object[] { 0.0, 0.0, 0.0, false },
        new object[] { 0.9, 0.1, 0.01, true },
        new object[] { 0.9, 0.0, 0.0, true },
        new object[] { 0.0, 0.0, 0.01, true },
    ];

    [Test, Combinatorial]
    public void ThreeStepsMatchTheCpuBackend([ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [Values(32, 256, 1024)] int block, [ValueSource(nameof(Configs))] object[] cfg)
    {
        double momentum = (double)cfg[0], dampening = (double)cfg[1], weightDecay = (double)cfg[2];
        bool withBuffer = (bool)cfg[3];
        const double lr = 0.05;
        var cpu = CpuBackend.Instance;
        float[] p0 = Uniform(5 * n + block, n);
        float[] buf0 = Uniform(9 * n + block, n); // garbage the first step must overwrite
        var cp = cpu.Allocate(DType.Float32, n);
        var cg = cpu.Allocate(DType.Float32, n);
        var cb = withBuffer ? cpu.Allocate(DType.Float32, n) : null;
        cpu.Upload(cp, p0);
        if (cb is not null) cpu.Upload(cb, buf0);
        using var ep = Upload(p0);
        using var eg = Device.Allocate(n);
        using var eb = withBuffer ? Upload(buf0) : null;
        for (int step = 1; step <= 3; step++)
        {
            float[] g = Uniform(13 * n + step, n);
            cpu.Upload(cg, g);
            Device.Upload(eg, g);
            cpu.SgdStep(cp, cg, cb, lr, momentum, dampening, weightDecay, firstStep: step == 1);
            Device.SgdUpdate(ep, eb, eg, n, lr, momentum, dampening, weightDecay, firstStep: step == 1, block);
        }
        AssertClose(Download(cp, n), Device.Download(ep), Atol, Rtol, "param");
        if (cb is not null) AssertClose(Download(cb, n), Device.Download(eb!), Atol, Rtol, "momentum buffer");
    }

    private static float[] Download(BackendBuffer b, int n)
    {
        var r = new float[n];
        CpuBackend.Instance.Download(b, r);
        return r;
    }
}
