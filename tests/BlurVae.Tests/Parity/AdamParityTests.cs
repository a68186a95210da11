using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

[TestFixture, Category("Parity")]
public class AdamParityTests
{
    // Same float operations in the same order; the tolerance only allows for a compiler contracting a·b + c into an FMA.
    private const double Atol = 1e-7, Rtol = 1e-6;

    [Test, Combinatorial]
    public void ThreeStepsMatchTheCpuBackend(
        [ValueSource(typeof(KernelParity), nameof(Sizes))] int n,
        [ValueSource(typeof(KernelParity), nameof(BlockSizes))] int block,
        [Values(0.0, 0.01)] double weightDecay)
    {
        var cpu = CpuBackend.Instance;
        float[] p0 = Uniform(7 * n + block, n);
        var cp = cpu.Allocate(DType.Float32, n);
        var cm = cpu.Allocate(DType.Float32, n);
        var cv = cpu.Allocate(DType.Float32, n);
        var cg = cpu.Allocate(DType.Float32, n);
        cpu.Upload(cp, p0);
        using var ep = Upload(p0);
        using var em = Device.Allocate(n);
        using var ev = Device.Allocate(n);
        using var eg = Device.Allocate(n);
        for (int step = 1; step <= 3; step++)
        {
            // Gradients of mixed scale so that sqrt(v) and eps both matter.
            float[] g = Uniform(11 * n + step, n, -1, 1).Select((x, i) => i % 3 == 0 ? 1e-6f * x : x).ToArray();
            cpu.Upload(cg, g);
            Device.Upload(eg, g);
            var hp = new AdamStepParameters(1e-3, 0.9, 0.999, 1e-8, weightDecay, step);
            cpu.AdamStep(cp, cg, cm, cv, hp);
            Device.AdamUpdate(ep, em, ev, eg, n, hp, block);
        }
        AssertClose(Download(cp, n), Device.Download(ep), Atol, Rtol, "param");
        AssertClose(Download(cm, n), Device.Download(em), Atol, Rtol, "m");
        AssertClose(Download(cv, n), Device.Download(ev), Atol, Rtol, "v");
    }

    private static float[] Download(BackendBuffer b, int n)
    {
        var r = new float[n];
        CpuBackend.Instance.Download(b, r);
        return r;
    }
}
