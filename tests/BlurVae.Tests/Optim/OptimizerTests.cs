namespace BlurVae.Tests.Optim;

[TestFixture, Category("Optim")]
public class OptimizerTests
{
    private static Tensor Param(params double[] v) => new(Tensor.FromArray(v, [v.Length]).Buffer, [v.Length]) { RequiresGrad = true };

    /// <summary>Adam written out from the paper's formulas (Kingma & Ba, with PyTorch's eps placement and L2 decay).</summary>
    private static double[] AdamReference(double[] p, Func<double[], double[]> grad, int steps, double lr, double b1, double b2, double eps, double wd)
    {
        p = (double[])p.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= steps; t++)
        {
            var g = grad(p);
            for (int i = 0; i < p.Length; i++)
            {
                double gi = g[i] + wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mh = m[i] / (1 - Math.Pow(b1, t)), vh = v[i] / (1 - Math.Pow(b2, t));
                p[i] -= lr * mh / (Math.Sqrt(vh) + eps * 1.0);
            }
        }
        return p;
    }

    [TestCase(0.0), TestCase(0.01)]
    public void AdamMatchesTheFormula(double weightDecay)
    {
        double[] start = [1.0, -2.0, 0.5];
        var p = Param(start);
        var opt = new Adam([p], lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-8, weightDecay: weightDecay);
        for (int t = 0; t < 5; t++)
        {
            opt.ZeroGrad();
            (p * p * p).Sum().Backward();   // gradient 3p²
            opt.Step();
        }
        // PyTorch's eps is added to sqrt(v)/sqrt(1−β2^t), i.e. after bias correction: the same as the formula.
        var expected = AdamReference(start, q => q.Select(x => 3 * x * x).ToArray(), 5, 0.1, 0.8, 0.9, 1e-8, weightDecay);
        Assert.That(p.ToDoubleArray(), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void AdamFirstStepMovesEachWeightByTheLearningRate()
    {
        var p = Param(3, -4);
        var opt = new Adam([p], lr: 0.01);
        (p * p).Sum().Backward();
        opt.Step();
        // m̂ = g, v̂ = g²: the first update is lr·sign(g) (up to eps).
        Assert.That(p.ToDoubleArray(), Is.EqualTo(new[] { 2.99, -3.99 }).Within(1e-9));
    }

    [Test]
    public void SgdWithMomentumMatchesPyTorchRecurrence()
    {
        var p = Param(1.0);
        var opt = new Sgd([p], lr: 0.1, momentum: 0.9, dampening: 0.5);
        double x = 1.0, buf = 0;
        for (int t = 0; t < 4; t++)
        {
            opt.ZeroGrad();
            (p * p).Sum().Backward();
            opt.Step();
            double g = 2 * x;
            buf = t == 0 ? g : 0.9 * buf + 0.5 * g;
            x -= 0.1 * buf;
        }
        Assert.That(p.Item(), Is.EqualTo(x).Within(1e-12));
    }

    [Test]
    public void TwoParameterGroupsStepIndependently()
    {
        // The method's alternation: the VAE optimiser must not move the kernel generator, and vice versa.
        var vae = Param(1, 1);
        var gen = Param(2, 2);
        var optVae = new Adam([vae], lr: 0.1);
        var optGen = new Adam([gen], lr: 0.1);
        (vae * gen).Sum().Backward();      // both get gradients
        optVae.Step();
        Assert.That(gen.ToDoubleArray(), Is.EqualTo(new[] { 2.0, 2 }), "the VAE step moved the generator");
        Assert.That(vae.ToDoubleArray(), Is.Not.EqualTo(new[] { 1.0, 1 }));
        var vaeAfter = vae.ToDoubleArray();
        optGen.Step();
        Assert.That(vae.ToDoubleArray(), Is.EqualTo(vaeAfter), "the generator step moved the VAE");
        Assert.That(optVae.StepCount, Is.EqualTo(1));
        Assert.That(optGen.StepCount, Is.EqualTo(1));
    }

    [Test]
    public void Float32AdamAgreesWithFloat64()
    {
        var p64 = Param(0.3, -0.7, 1.1);
        var p32 = new Tensor(Tensor.FromArray(new float[] { 0.3f, -0.7f, 1.1f }, [3]).Buffer, [3]) { RequiresGrad = true };
        var o64 = new Adam([p64], lr: 0.05);
        var o32 = new Adam([p32], lr: 0.05);
        for (int t = 0; t < 10; t++)
        {
            o64.ZeroGrad();
            o32.ZeroGrad();
            (p64 * p64).Sum().Backward();
            (p32 * p32).Sum().Backward();
            o64.Step();
            o32.Step();
        }
        Assert.That(p32.ToDoubleArray(), Is.EqualTo(p64.ToDoubleArray()).Within(1e-5));
    }

    [Test]
    public void BadHyperParametersNameTheArgument()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([Param(1)], beta1: 1.0));
        Assert.That(ex!.ParamName, Is.EqualTo("beta1"));
        Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Zeros([2], DType.Float64)], lr: 0.1));
    }
}
