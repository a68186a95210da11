using BlurVae.Training.SelfTest;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The op-level cases of the kernel parity suite are the shipped selftest's (<see cref="BackendParity.Families"/>):
/// one test case per op family, each run on the device under test (<see cref="GpuTarget"/>: the GPU when usable, else
/// the emulation) against the CPU backend in float64, with the selftest's sizes and tolerances. A new IBackend op
/// adds its check once, in BlurVae.Training/SelfTest/BackendParity.&lt;Family&gt;.cs, and becomes a case here. The
/// other files of this folder add what only a test can reach: launch configurations (every block size, every
/// convolution algorithm and tile), the emulator itself, and bad-argument checks of the launchers.
/// </summary>
[TestFixture, Category("Parity")]
public class ShippedParityCasesTests
{
    public static IEnumerable<string> Families => BackendParity.FamilyNames;

    [TestCaseSource(nameof(Families))]
    public void PassesOnTheDevice(string family)
    {
        // A device of its own, disposed after the case: its buffers never reach the shared device's leak count.
        var backend = GpuTarget.NewBackend();
        using var device = backend.Device;
        var log = new StringWriter();
        var result = BackendParity.RunFamily(family, backend, CpuBackend.Instance, new ParityOptions(), log);
        Assert.That(result.Total, Is.GreaterThan(0), $"family {family} has no checks");
        Assert.That(result.Failures.Select(f => f.Line), Is.Empty, result.Summary + Environment.NewLine + log);
    }

    [Test]
    public void EveryFamilyOfTheSelftestIsACase()
    {
        // The selftest runs exactly these families: one run of the whole list equals the sum of the cases.
        var names = BackendParity.FamilyNames.ToArray();
        Assert.That(names, Is.Unique);
        Assert.That(names, Is.Not.Empty);
        var e = Assert.Throws<ArgumentException>(() => BackendParity.RunFamily("no-such-family", CpuBackend.Instance, CpuBackend.Instance, new ParityOptions(), TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("memory"), "the message lists the families");
    }
}
