namespace BlurVae.Tests.Parity;

/// <summary>
/// The launch-time rule of <see cref="KernelSignatures"/>: one buffer is never passed as two pointer arguments of a
/// kernel that declares them __restrict__ and writes one. Every launch of the suite goes through it, so an in-place
/// call anywhere in the engine fails CI.
/// </summary>
[TestFixture, Category("Parity")]
public class RestrictAliasTests
{
    private static readonly EmulatedDevice Device = new();

    [Test]
    public void SignaturesAreReadFromTheKernelSource()
    {
        var axpby = KernelSignatures.Of("axpby_kernel");
        Assert.That(axpby, Is.Not.Null);
        Assert.That(axpby!.Select(p => p.Name), Is.EqualTo(new[] { "y", "x", "n", "alpha", "beta" }));
        Assert.That(axpby[0], Is.EqualTo(new KernelSignatures.Parameter("y", IsPointer: true, IsRestrict: true, IsConst: false)));
        Assert.That(axpby[1], Is.EqualTo(new KernelSignatures.Parameter("x", IsPointer: true, IsRestrict: true, IsConst: true)));
        Assert.That(axpby[2].IsPointer, Is.False);
        Assert.That(KernelSignatures.Of("batchnorm_forward_statistics_kernel")!.Select(p => p.Name), Is.EqualTo(new[] { "partial", "x", "n", "c", "spatial", "chunk" }),
            "declared with __launch_bounds__ before the name");
    }

    [Test]
    public void InPlaceLaunchOfARestrictKernelIsRefused()
    {
        using var y = Device.Allocate(64);
        var e = Assert.Throws<ArgumentException>(() => Device.Launch("axpby_kernel", new Dim3(1), new Dim3(64), y, y, 64, 1f, 1f));
        Assert.That(e!.Message, Does.Contain("axpby_kernel").And.Contain("(y)").And.Contain("(x)"));
    }

    [Test]
    public void TheSameBufferAsTwoReadOnlyInputsIsAllowed()
    {
        using var y = Device.Allocate(64);
        using var a = Device.Allocate(64);
        Device.BinaryForward(Kernels.BinaryOp.Mul, y, [64], a, [64], a, [64]);
        Assert.That(Device.Download(y), Is.All.EqualTo(0f));
    }

    [Test]
    public void ParsesLaunchBoundsAndMultiLineParameterLists()
    {
        var parsed = KernelSignatures.Parse(["extern \"C\" __global__ void __launch_bounds__(256) k_kernel(float* __restrict__ out,\n    const float* in, int n) {}"]);
        Assert.That(parsed["k_kernel"].Select(p => (p.Name, p.IsPointer, p.IsRestrict, p.IsConst)),
            Is.EqualTo(new[] { ("out", true, true, false), ("in", true, false, true), ("n", false, false, false) }));
    }
}
