using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The multi-tensor Adam (adam_multi_tensor_kernel through DeviceBackend.AdamStepGroup, the step count advanced in the same launch)
/// against the CPU backend's per-tensor AdamStep: bit for bit under the emulation (the same float operations; the
/// bias corrections in double from the same hyper-parameters, rounded once to float: β^t by squaring on the device
/// and Math.Pow on the host agree to a few double ulps, which could only change the float at a rounding tie), over steps whose gradients move to new
/// buffers (the addresses travel in the launch parameters, nothing is uploaded) and a jump of the step count (a restored checkpoint).
/// </summary>
[TestFixture, Category("Parity")]
public class AdamGroupParityTests
{
    // Five tensors of awkward sizes (one launch), and 101 (three launches of at most 48 tensors each: the lists split).
    private static readonly int[] FewTensors = [1, 31, 1000, 4097, 7];
    private static readonly int[] ManyTensors = Enumerable.Range(0, 101).Select(i => 1 + i * 37 % 300).ToArray();

    [TestCase(0.0, false), TestCase(0.01, false), TestCase(0.0, true)]
    public void GroupStepsEqualPerTensorSteps(double weightDecay, bool many)
    {
        int[] lengths = many ? ManyTensors : FewTensors;
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
            var before = device.Device.Counts;
            device.AdamStepGroup(dp, dg, dm, dv, p);
            var step = device.Device.Counts.Minus(before);
            // The step state goes up only when the count jumps (the first step, a restored checkpoint); the addresses never.
            bool jump = k == 0 || steps[k] != steps[k - 1] + 1;
            Assert.That(step.CopiesHostToDevice, Is.EqualTo(jump ? 1 : 0), $"uploads of step {steps[k]}");
            Assert.That(step.Launches, Is.EqualTo((lengths.Length + 47) / 48), "one launch per list of 48 tensors, the step count advanced by the last");
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
    public void ParametersBeyondFourKilobytesAreRefused()
    {
        var device = new EmulatedDevice();
        using var y = device.Allocate(32);
        var e = Assert.Throws<ArgumentException>(() => device.LaunchWithStruct("axpby_kernel", new Dim3(1), new Dim3(32), new byte[4090], y, 32, 0.5f, 1f));
        Assert.That(e!.Message, Does.Contain("axpby_kernel").And.Contain("4096"));
        // A list whose size is not sizeof(adam_tensor_list) (1736 bytes) is refused as the wrong argument, not misread.
        var wrong = Assert.Throws<EmulatedLaunchException>(() => device.LaunchWithStruct("adam_multi_tensor_kernel", new Dim3(1), new Dim3(32), new byte[1728],
            y, 0.9f, 0.999f, 1e-8f, 0f));
        Assert.That(wrong!.Error, Is.EqualTo(HostLaunchError.BadArguments));
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
