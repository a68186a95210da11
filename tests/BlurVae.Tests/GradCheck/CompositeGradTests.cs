using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.GradCheck;

/// <summary>Gradient accumulation (a tensor used several times) and whole small networks.</summary>
[TestFixture, Category("GradCheck")]
public class CompositeGradTests
{
    [Test]
    public void TensorUsedSeveralTimes() => AssertGradients(x => x[0] * x[0] + x[0].Tanh() * x[1] - x[1].Exp() * x[0], Randn(1, 3, 5), Randn(2, 3, 5));

    [Test]
    public void SharedWeightInTwoBranches() =>
        AssertGradients(x => Functional.Linear(x[0], x[1]).Tanh() + Functional.Linear(x[0].Square(), x[1]), Randn(3, 3, 4), Randn(4, 5, 4));

    [Test]
    public void DiamondThroughIntermediate()
    {
        // h is an intermediate (not a leaf) consumed by three ops: its gradient must be summed before flowing on.
        AssertGradients(x =>
        {
            var h = (x[0] * 2.0).Sigmoid();
            return h * h + h.Sum([1], keepDims: true) + h.Log();
        }, Randn(5, 3, 7));
    }

    [Test]
    public void SmallEncoderDecoder()
    {
        // conv(s2) → BN → leaky → flatten → linear → chunk (μ, logσ²) → reparameterise with fixed ε →
        // linear → reshape → convT(s2) → BN → leaky → upsample → conv → tanh, as a function of the input and every weight.
        var rng = new Random(7);
        var eps = Tensor.Randn([3, 4], rng, DType.Float64);
        var rm1 = Tensor.Zeros([6], DType.Float64);
        var rv1 = Tensor.Ones([6], DType.Float64);
        var rm2 = Tensor.Zeros([5], DType.Float64);
        var rv2 = Tensor.Ones([5], DType.Float64);
        Tensor Net(Tensor[] p)
        {
            var x = p[0];
            var h = Functional.Conv2d(x, p[1], p[2], stride: 2, padding: 1);              // [3,6,3,3]
            h = Functional.BatchNorm(h, rm1, rv1, p[3], p[4], training: true).LeakyRelu(0.2);
            var stats = Functional.Linear(h.Flatten(), p[5], p[6]);                     // [3,8]
            var parts = stats.Chunk(2, axis: 1);
            var z = parts[0] + (parts[1] * 0.5).Exp() * eps;                             // [3,4]
            var d = Functional.Linear(z, p[7], p[8]).Reshape(3, 2, 2, 2);                // [3,2,2,2]
            d = Functional.ConvTranspose2d(d, p[9], p[10], stride: 2, padding: 1);      // [3,5,4,4]
            d = Functional.BatchNorm(d, rm2, rv2, p[11], p[12], training: true).LeakyRelu(0.2);
            d = new UpsampleBilinear2x().Forward(d);                                     // [3,5,8,8]
            return Functional.Conv2d(d, p[13], p[14], stride: 1, padding: 1).Tanh();    // [3,1,8,8]
        }
        AssertGradients(Net,
            Randn(1, 3, 1, 5, 5),
            Randn(2, 6, 1, 3, 3), Randn(3, 6),
            Positive(4, 6), Randn(5, 6),
            Randn(6, 8, 54), Randn(7, 8),
            Randn(8, 8, 4), Randn(9, 8),
            Randn(10, 2, 5, 4, 4), Randn(11, 5),
            Positive(12, 5), Randn(13, 5),
            Randn(14, 1, 5, 3, 3), Randn(15, 1));
    }

    [Test]
    public void ModuleNetwork()
    {
        // The same machinery through Module objects, checking the input gradient and one parameter.
        var rng = new Random(3);
        var net = new Sequential(
            new Conv2d(2, 4, 3, rng, stride: 2, padding: 1, dtype: DType.Float64),
            new BatchNorm2d(4, dtype: DType.Float64),
            new LeakyReLU(0.2),
            new Flatten(),
            new Linear(36, 5, rng, dtype: DType.Float64),
            new ReLU6());
        var w = net.NamedParameters().Single(p => p.Name == "4.weight").Value;
        w.RequiresGrad = false;
        var wLeaf = w.Detach().Clone();
        AssertGradients(x =>
        {
            var h = net.Layers[2].Forward(net.Layers[1].Forward(net.Layers[0].Forward(x[0])));
            return Functional.Linear(h.Flatten(), x[1], ((Linear)net.Layers[4]).Bias).Tanh();
        }, Randn(20, 3, 2, 5, 5), wLeaf);
    }
}
