using BlurVae.Training.Perceptual;

namespace BlurVae.Tests.Reference;

/// <summary>
/// Our FID Inception-v3 against pytorch-fid's FID variant built from torchvision 0.14's blocks
/// (reference/pytorch/inception_fid.py) on the same random weights and batch-norm statistics in float64: pool3 of two
/// 32×32 images resized to 299 × 299 as pytorch-fid does (the full-size network, once), and of two 80×80 images fed at
/// their own size (odd sizes through every reduction, down to 1×1 in Mixed_7). The same run checks the pools and the
/// resize alone against torch.nn.functional on a [2, 3, 7, 9] tensor.
/// </summary>
[TestFixture, Category("Reference")]
public class FidInceptionReferenceTests
{
    [TestCase(5, 32, true), TestCase(6, 80, false)]
    public void Pool3MatchesPyTorchFidsNetwork(int seed, int side, bool resize)
    {
        var tensors = RunReference(seed, side, resize, out string weights);
        try
        {
            var model = new FidInceptionV3(new Random(0), DType.Float64);
            model.Load(weights);
            var input = tensors["input"];
            using var _ = GradMode.NoGrad();
            var features = model.Features(Tensor.FromArray(input.Values, input.Shape, DType.Float64), resize);
            Assert.That(features.Shape, Is.EqualTo(new[] { 2, FidInceptionV3.FeatureCount }));
            AssertClose(features.ToDoubleArray(), tensors["pool3"].Values, "pool3");
            CheckOps(tensors);
        }
        finally
        {
            File.Delete(weights);
        }
    }

    private static void CheckOps(Dictionary<string, BlurVae.Training.Io.SafeTensors.Entry> t)
    {
        var x = Tensor.FromArray(t["ops.x"].Values, t["ops.x"].Shape, DType.Float64);
        AssertClose(x.AvgPool2d(3, 2, 1, countIncludePad: true).ToDoubleArray(), t["ops.avg_k3_s2_p1_count_pad"].Values, "avg_pool2d(3, 2, 1)");
        AssertClose(x.AvgPool2d(3, 1, 1, countIncludePad: false).ToDoubleArray(), t["ops.avg_k3_s1_p1_no_pad"].Values, "avg_pool2d(3, 1, 1, count_include_pad=False)");
        AssertClose(Pool2dFunction.Pool(x, PoolMode.Max, (2, 3), (2, 1), (1, 1)).ToDoubleArray(), t["ops.max_k2x3_s2x1_p1"].Values, "max_pool2d((2, 3), (2, 1), (1, 1))");
        AssertClose(x.MaxPool2d(3, 2).ToDoubleArray(), t["ops.max_k3_s2"].Values, "max_pool2d(3, 2)");
        AssertClose(x.AdaptiveAvgPool2d(3, 4).ToDoubleArray(), t["ops.adaptive_avg_3x4"].Values, "adaptive_avg_pool2d((3, 4))");
        AssertClose(x.AdaptiveAvgPool2d(5, 11).ToDoubleArray(), t["ops.adaptive_avg_5x11"].Values, "adaptive_avg_pool2d((5, 11))");
        AssertClose(x.ResizeBilinear(5, 4).ToDoubleArray(), t["ops.resize_5x4"].Values, "interpolate(size=(5, 4))");
        AssertClose(x.ResizeBilinear(11, 13).ToDoubleArray(), t["ops.resize_11x13"].Values, "interpolate(size=(11, 13))");
    }

    private static Dictionary<string, BlurVae.Training.Io.SafeTensors.Entry> RunReference(int seed, int side, bool resize, out string path)
    {
        var python = PyTorchReference.RequirePython("torchvision", "python3-torchvision");
        path = Path.Combine(Path.GetTempPath(), $"blurvae-inception-{Guid.NewGuid():N}.safetensors");
        string script = Path.Combine(Repository.Root(), "reference", "pytorch", "inception_fid.py");
        var (code, stdout, stderr) = PyTorchReference.Execute(python, [script, path, seed.ToString(), side.ToString(), resize ? "1" : "0"], TimeSpan.FromMinutes(3));
        Assert.That(code, Is.Zero, $"inception_fid.py failed:\n{stdout}\n{stderr}");
        return BlurVae.Training.Io.SafeTensors.Read(path).Tensors;
    }

    // Float64 on both sides; the same arithmetic up to summation order (and the resize's (x + 1)/2 … 2x − 1 round trip).
    private static void AssertClose(double[] ours, double[] reference, string what)
    {
        Assert.That(ours, Has.Length.EqualTo(reference.Length), what);
        double scale = reference.Max(Math.Abs);
        for (int i = 0; i < ours.Length; i++)
            if (Math.Abs(ours[i] - reference[i]) > 1e-9 * scale)
                Assert.Fail($"{what}[{i}]: ours {ours[i]:R}, PyTorch {reference[i]:R} (scale {scale:R})");
    }
}
