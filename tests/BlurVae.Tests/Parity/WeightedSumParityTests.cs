using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// weighted_sum_{forward,backward}_kernel and axpby_group_kernel (kernels/elementwise.cuh: tensor addresses by value in
/// the launch parameters) against CpuBackend.WeightedSum* and AxpbyGroup on awkward lengths and block sizes.
/// </summary>
[TestFixture, Category("Parity")]
public class WeightedSumParityTests
{
    // One term, the ELBO's two (reconstruction + β·KL), and the most a launch takes.
    public static readonly object[] WeightSets =
    [
        new object[] { new[] { 0.5 } },
        new object[] { new[] { 1.0, 0.25 } },
        new object[] { new[] { 1.0, -0.5, 2.0, 0.125, -1.5, 0.75, 3.0, -0.25 } },
    ];

    // The same products added in the same order; the tolerance allows for a compiler contracting them into FMAs.
    [Test, Combinatorial]
    public void ForwardAndBackward([ValueSource(typeof(KernelParity), nameof(Sizes))] int n, [Values(1, 33, 256)] int block, [ValueSource(nameof(WeightSets))] object[] set)
    {
        var weights = (double[])set[0];
        var xs = weights.Select((_, k) => Uniform(100 * k + n + block, n, -2, 2)).ToArray();
        float[] dy = Uniform(7 * n + block, n, -2, 2);
        float[] expectedY = OnCpu(b => CpuBackend.Instance.WeightedSumForward(b[0], b[1..], weights), [new float[n], .. xs])[0];
        float[][] expectedDx = OnCpu(b => CpuBackend.Instance.WeightedSumBackward(b[1..], weights, b[0]), [dy, .. xs.Select(_ => new float[n])])[1..];

        var bxs = xs.Select(Upload).ToList();
        using var by = Upload(Uniform(3, n)); // garbage: every element is written
        Device.WeightedSumForward(by, bxs, weights, n, block);
        AssertClose(expectedY, Device.Download(by), 1e-6, 1e-6, "y");

        using var bdy = Upload(dy);
        var bdxs = xs.Select((_, k) => Upload(Uniform(50 + k, n))).ToList();
        Device.WeightedSumBackward(bdxs, weights, bdy, n, block);
        for (int k = 0; k < weights.Length; k++) AssertClose(expectedDx[k], Device.Download(bdxs[k]), 0, 0, $"dx[{k}]");
        foreach (var b in bxs.Concat(bdxs)) b.Dispose();
    }

    // Pair lengths: the trainer's four one-element sums, awkward mixed lengths, and more pairs than one launch takes (16).
    public static readonly object[] Groups =
    [
        new object[] { new[] { 1, 1, 1, 1 } },
        new object[] { new[] { 31, 1, 1000, 4097 } },
        new object[] { Enumerable.Range(1, 37).Select(k => 5 * k - 3).ToArray() },
    ];

    [Test, Combinatorial]
    public void AxpbyGroup([ValueSource(nameof(Groups))] object[] group, [Values(1, 64, 1024)] int block, [ValueSource(typeof(BinaryParityTests), nameof(BinaryParityTests.AxpbyCases))] object[] ab)
    {
        var lengths = (int[])group[0];
        double alpha = (double)ab[0], beta = (double)ab[1];
        var xs = lengths.Select((n, k) => Uniform(k + 1, n)).ToArray();
        var ys = lengths.Select((n, k) => Uniform(k + 1000, n)).ToArray();
        if (beta == 0) ys[0][0] = float.NaN; // ignored
        var bxs = xs.Select(Upload).ToList();
        var bys = ys.Select(Upload).ToList();
        Device.AxpbyGroup(bys, alpha, bxs, lengths, beta, block);
        for (int k = 0; k < lengths.Length; k++)
        {
            float[] expected = OnCpu(b => CpuBackend.Instance.Axpby(b[0], alpha, b[1], beta), ys[k], xs[k])[0];
            AssertClose(expected, Device.Download(bys[k]), 1e-7, 1e-6, $"y[{k}]");
        }
        foreach (var b in bxs.Concat(bys)) b.Dispose();
    }

    [Test]
    public void LaunchersRejectBadLists()
    {
        using var a = Device.Allocate(4);
        using var b = Device.Allocate(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.WeightedSumForward(a, Enumerable.Repeat(b, 9).ToList(), Enumerable.Repeat(1.0, 9).ToList(), 4));
        Assert.Throws<ArgumentException>(() => Device.WeightedSumForward(a, [b], [1.0, 2.0], 4));
        Assert.Throws<ArgumentException>(() => Device.WeightedSumForward(a, [b, a], [1.0, 2.0], 4));   // y is also a term
        Assert.Throws<ArgumentException>(() => Device.WeightedSumBackward([a, a], [1.0, 2.0], b, 4));  // one output twice
        Assert.Throws<ArgumentException>(() => Device.WeightedSumForward(a, [b], [1.0], 5));           // too short
        Assert.Throws<ArgumentException>(() => Device.AxpbyGroup([a, a], 1, [b, b], [4, 4], 1));       // one output twice
        Assert.Throws<ArgumentException>(() => Device.AxpbyGroup([a], 1, [a], [4], 1));                // y is also x
        Assert.Throws<ArgumentException>(() => Device.AxpbyGroup([a], 1, [b], [5], 1));                // too short
    }

    [Test]
    public void TheCpuBackendRejectsSharedOutputsByTheSameRule()
    {
        var cpu = CpuBackend.Instance;
        var a = cpu.Allocate(DType.Float32, 4);
        var b = cpu.Allocate(DType.Float32, 4);
        cpu.Fill(b, 1.0);
        Assert.That(Assert.Throws<ArgumentException>(() => cpu.WeightedSumBackward([a, a], [1.0, 2.0], b))!.Message, Does.StartWith("dx[1] is also dx[0]"));
        Assert.That(Assert.Throws<ArgumentException>(() => cpu.AxpbyGroup([a, b], 1, [b, a], 1))!.Message, Does.StartWith("y[0] is also x[1]"));
        Assert.That(Assert.Throws<ArgumentException>(() => cpu.AxpbyGroup([a, a], 1, [b, b], 1))!.Message, Does.StartWith("y[1] is also y[0]"));
        Assert.That(((CpuBuffer)a).As<float>(), Is.All.EqualTo(0f), "nothing was written before the check");
    }
}
