namespace BlurVae.Tests.Cpu;

/// <summary>
/// The CPU AdamStepGroup, one parallel loop over the tensors laid end to end, against AdamStep tensor by tensor:
/// bit for bit (each element's update is the same), in float32 and float64, with and without weight decay, on awkward
/// sizes whose total spans several chunks (chunk edges fall inside tensors, tensors shorter than a vector), at 1 and
/// 3 threads.
/// </summary>
[TestFixture, Category("Cpu")]
public class AdamGroupKernelTests
{
    private static readonly int[] Lengths = [1, 31, 40_000, 7, 4097, 3, 65_537, 9];

    [TestCase(DType.Float32, 0.0), TestCase(DType.Float32, 0.01), TestCase(DType.Float64, 0.0)]
    public void GroupEqualsPerTensorSteps(DType dtype, double weightDecay)
    {
        var (one, three) = ThreadCount.OneAndThree(() => Run(dtype, weightDecay, group: true));
        var perTensor = Run(dtype, weightDecay, group: false);
        Assert.That(one, Is.EqualTo(perTensor));
        Assert.That(three, Is.EqualTo(perTensor));
    }

    [Test]
    public void MixedDTypesAreRefused()
    {
        var be = CpuBackend.Instance;
        var a = be.Allocate(DType.Float32, 3);
        var b = be.Allocate(DType.Float64, 3);
        var ex = Assert.Throws<ArgumentException>(() => be.AdamStepGroup([a, b], [a, b], [a, b], [a, b], new AdamStepParameters(1e-3, 0.9, 0.999, 1e-8, 0, 1)));
        Assert.That(ex!.Message, Does.Contain("one dtype"));
    }

    // Parameters, first and second moments after three steps with fresh gradients, all tensors concatenated.
    private static double[] Run(DType dtype, double weightDecay, bool group)
    {
        var be = CpuBackend.Instance;
        var rng = new Random(7);
        BackendBuffer[] New(bool zero) => Lengths.Select(n =>
        {
            var buffer = be.Allocate(dtype, n);
            if (!zero) be.Upload(buffer, DirectConvTests.Random(rng, n));
            return buffer;
        }).ToArray();
        BackendBuffer[] p = New(false), m = New(true), v = New(true);
        for (int step = 1; step <= 3; step++)
        {
            var g = New(false);
            var hyper = new AdamStepParameters(1e-2, 0.9, 0.999, 1e-8, weightDecay, step);
            if (group) be.AdamStepGroup(p, g, m, v, hyper);
            else
                for (int i = 0; i < p.Length; i++) be.AdamStep(p[i], g[i], m[i], v[i], hyper);
        }
        return p.Concat(m).Concat(v).SelectMany(b =>
        {
            var values = new double[b.Length];
            be.Download(b, values);
            return values;
        }).ToArray();
    }
}
