using static BlurVae.Tests.Parity.KernelParity;
using static BlurVae.Tests.Parity.WienerParityTests;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// The kernels of kernels/vae.cuh against VaeModel.Reparameterize and the split → Reparameterize → KL chain: values and tape-autograd
/// gradients, evaluated in float64 on the CPU backend from the float32 inputs the kernels get.
/// </summary>
[TestFixture, Category("Parity")]
public class VaeParityTests
{
    // (n, latent): one sample and three, latent sizes below a warp, not a multiple of any block, larger than a block.
    private static readonly object[] Cases =
    [
        new object[] { 1, 1 },
        new object[] { 3, 31 },
        new object[] { 1, 128 },
        new object[] { 3, 1000 },
        new object[] { 3, 1500 },
    ];

    private static readonly int[] ReduceBlocks = [32, 96, 256, 1024];
    private static readonly int[] ElementBlocks = [1, 33, 256, 1024];

    // expf is within 2 ulp on the GPU (correctly rounded on the host) and each output takes a few roundings more.
    private const double Rtol = 1e-6, Atol = 1e-7;

    [TestCaseSource(nameof(Cases))]
    public void ReparameterizeMatchesVaeModel(int n, int latent)
    {
        int count = n * latent;
        float[] mu = Uniform(count + 1, count, -2, 2), logVar = Uniform(count + 2, count, -4, 2), eps = Uniform(count + 3, count, -3, 3);
        float[] g = Uniform(count + 4, count);
        var muLeaf = Leaf(mu, n, latent);
        var logVarLeaf = Leaf(logVar, n, latent);
        var z = VaeModel.Reparameterize(muLeaf, logVarLeaf, Float64(eps, n, latent));
        float[] expectedZ = z.ToFloatArray();
        z.Backward(Float64(g, n, latent));
        float[] expectedDmu = muLeaf.Grad!.ToFloatArray(), expectedDlv = logVarLeaf.Grad!.ToFloatArray();
        using var bmu = Upload(mu);
        using var blv = Upload(logVar);
        using var beps = Upload(eps);
        using var bg = Upload(g);
        foreach (int block in ElementBlocks)
        {
            using var bz = Device.Allocate(count);
            using var bdmu = Device.Allocate(count);
            using var bdlv = Device.Allocate(count);
            Device.ReparameterizeForward(bz, bmu, blv, beps, count, block);
            Device.ReparameterizeBackward(bdmu, bdlv, bg, blv, beps, count, block);
            AssertClose(expectedZ, Device.Download(bz), Atol, Rtol, $"z (block {block})");
            AssertClose(expectedDmu, Device.Download(bdmu), 0, 0, $"dmu (block {block})");
            AssertClose(expectedDlv, Device.Download(bdlv), Atol, Rtol, $"dlogvar (block {block})");
        }
    }

    // z = μ + σ·ε and the gradients add float32 terms of size up to ~8 (σ ≤ e, |ε| ≤ 3) that may cancel: an absolute part
    // of a few roundings of that size.
    private const double LatentAtol = 2e-6;

    // The fused latent against a chain of other ops (split, Reparameterize, the KL formula elementwise) in float64 on the CPU: z, the
    // batch KL and d(stats) with both gradients and with each alone (the kernel's null dz / dkl).
    [TestCaseSource(nameof(Cases))]
    public void LatentMatchesSplitReparameterizeAndTheKlFormula(int n, int latent)
    {
        int count = n * latent;
        float[] stats = Uniform(count + 7, 2 * count, -2, 2), eps = Uniform(count + 8, count, -3, 3), g = Uniform(count + 9, count);
        const float dKl = 1.3f;
        float[] expectedZ = [];
        double batch = 0;
        float[] Reference(bool withDz, bool withKl)
        {
            var leaf = Leaf(stats, n, 2 * latent);
            var (mu, logVar) = leaf.SplitHalves(axis: 1);
            var z = VaeModel.Reparameterize(mu, logVar, Float64(eps, n, latent));
            var kl = (1.0 + logVar - mu.Square() - logVar.Exp()).Sum() * (-0.5 / n); // the KL's definition, elementwise
            (expectedZ, batch) = (z.ToFloatArray(), kl.Item());
            var loss = withDz && withKl ? (z * Float64(g, n, latent)).Sum() + kl * dKl : withDz ? (z * Float64(g, n, latent)).Sum() : kl * dKl;
            loss.Backward();
            return leaf.Grad!.ToFloatArray();
        }
        var cases = new[] { ("both", true, true), ("dz only", true, false), ("dkl only", false, true) }
            .Select(c => (c.Item1, c.Item2, c.Item3, Expected: Reference(c.Item2, c.Item3))).ToArray();
        using var bstats = Upload(stats);
        using var beps = Upload(eps);
        using var bg = Upload(g);
        using var bdkl = Upload([dKl]);
        foreach (int block in ReduceBlocks)
        {
            using var bz = Device.Allocate(count);
            using var bkl = Upload([float.NaN]);
            using var bPerSample = Upload(Uniform(9, n));
            Device.LatentForward(bz, bkl, bPerSample, bstats, beps, n, latent, 1f / n, block);
            AssertClose(expectedZ, Device.Download(bz), LatentAtol, Rtol, $"z (block {block})");
            Assert.That(Device.Download(bkl)[0], Is.EqualTo(batch).Within(1e-6 * latent + 1e-5 * Math.Abs(batch)), $"batch KL (block {block})");
        }
        foreach (int block in ElementBlocks)
            foreach (var (which, withDz, withKl, expected) in cases)
            {
                using var bdstats = Upload(Uniform(10, 2 * count)); // garbage: every element must be written
                Device.LatentBackward(bdstats, withDz ? bg : null, withKl ? bdkl : null, bstats, beps, n, latent, 1f / n, block);
                AssertClose(expected, Device.Download(bdstats), LatentAtol, Rtol, $"dstats, {which} (block {block})");
            }
    }

    [Test]
    public void LauncherRejectsBadSizes()
    {
        using var b = Device.Allocate(16);
        using var l = Device.Allocate(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.LatentForward(b, l, b, b, b, 1, 8, 1f, 48)); // a block not a multiple of 32
        Assert.Throws<ArgumentException>(() => Device.ReparameterizeForward(b, b, b, b, 17));
        Assert.Throws<ArgumentException>(() => Device.LatentForward(b, l, b, b, b, 2, 5, 1f)); // stats [2, 10] is 20 elements, b has 16

    }
}
