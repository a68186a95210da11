using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The multi-tensor Adam (adam_step_count_kernel + adam_multi_tensor_kernel through DeviceBackend.AdamStepGroup)
/// against the CPU backend's per-tensor AdamStep: bit for bit under the emulation (the same float operations; the
/// bias corrections in double from the same hyper-parameters, rounded once to float: β^t by squaring on the device
/// and Math.Pow on the host agree to a few double ulps, which could only change the float at a rounding tie), over steps whose gradients move to new
/// buffers (the pointer table is uploaded again) and a jump of the step count (a restored checkpoint).
/// </summary>
[TestFixture, Category("Parity")]
public class AdamGroupParityTests
{
    [TestCase(0.0), TestCase(0.01)]
    public void GroupStepsEqualPerTensorSteps(double weightDecay)
    {
        int[] lengths = [1, 31, 1000, 4097, 7];
        var cpu = CpuBackend.Instance;
        var device = new EmulatedBackend();
        BackendBuffer[] New(IBackend b, int salt, float lo = -1, float hi = 1) => lengths.Select((n, i) =>
        {
            var buffer = b.Allocate(DType.Float32, n);
            b.Upload(buffer, Uniform(salt * 100 + i, n, lo, hi));
            return buffer;
        }).ToArray();
        BackendBuffer[] cp = New(cpu, 1), cm = New(cpu, 2, 0, 0), cv = New(cpu, 3, 0, 0);
        BackendBuffer[] dp = New(device, 1), dm = New(device, 2, 0, 0), dv = New(device, 3, 0, 0);
        int[] steps = [1, 2, 3, 10, 11];
        for (int k = 0; k < steps.Length; k++)
        {
            // Fresh gradient buffers each step, as the autograd makes them.
            var cg = New(cpu, 10 + k);
            var dg = New(device, 10 + k);
            var p = new AdamStepParameters(1e-3, 0.9, 0.999, 1e-8, weightDecay, steps[k]);
            for (int i = 0; i < lengths.Length; i++) cpu.AdamStep(cp[i], cg[i], cm[i], cv[i], p);
            device.AdamStepGroup(dp, dg, dm, dv, p);
            foreach (var (c, d, what) in new[] { (cp, dp, "param"), (cm, dm, "m"), (cv, dv, "v") })
                for (int i = 0; i < lengths.Length; i++)
                {
                    float[] expected = new float[lengths[i]], actual = new float[lengths[i]];
                    cpu.Download(c[i], expected);
                    device.Download(d[i], actual);
                    Assert.That(actual, Is.EqualTo(expected), $"{what}[{i}] after step {steps[k]}");
                }
        }
    }

    [Test]
    public void MismatchedListsAreRejected()
    {
        var device = new EmulatedBackend();
        var a = device.Allocate(DType.Float32, 4);
        Assert.Throws<ArgumentException>(() => device.AdamStepGroup([a, a], [a], [a, a], [a, a], new AdamStepParameters(1e-3, 0.9, 0.999, 1e-8, 0, 1)));
        Assert.Throws<ArgumentException>(() => device.AdamStepGroup([], [], [], [], new AdamStepParameters(1e-3, 0.9, 0.999, 1e-8, 0, 1)));
    }
}
