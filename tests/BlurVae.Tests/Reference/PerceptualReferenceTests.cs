using BlurVae.Training.Perceptual;

namespace BlurVae.Tests.Reference;

/// <summary>
/// Our perceptual networks against torchvision 0.14's (reference/pytorch/perceptual.py) on the same random weights in
/// float64, to 1e-9 of the largest reference value: VGG16's and AlexNet's taps (AlexNet's whole features output too)
/// and the input gradient of Σ mean(tap²); LPIPS-VGG and LPIPS-Alex with random non-negative heads against the
/// lpips package's formula written out in the script: the per-image distance and its gradient. Odd sides exercise
/// floor-mode pooling (VGG 36 → 18 → 9 → 4 → 2; AlexNet 67 → 16 → 7 → 3 → 1), grey inputs the repeat to RGB.
/// </summary>
[TestFixture, Category("Reference")]
public class PerceptualReferenceTests
{
    [TestCase("vgg16", 3, 36, 3)]
    [TestCase("alexnet", 4, 67, 3)]
    public void FeaturesMatchTorchvision(string network, int seed, int side, int channels)
    {
        var (tensors, model) = Perceptual(network, seed, side, channels);
        var x = Input(tensors, "input");
        var taps = model.Taps(PerceptualInput.ImageNet(x)).Select(t => t.Keep()).ToList(); // read after Backward(): kept from the autograd's release
        Tensor loss = taps.Select(t => t.Square().Mean()).Aggregate((a, b) => a + b);
        loss.Backward();
        for (int i = 0; i < taps.Count; i++)
            AssertClose(taps[i].ToDoubleArray(), tensors[$"tap.{model.TapLayers[i]}"].Values, $"{network} tap {model.TapLayers[i]}");
        AssertClose(x.Grad!.ToDoubleArray(), tensors["input_grad"].Values, $"{network} input gradient");
        using (GradMode.NoGrad())
            AssertClose(model.Forward(PerceptualInput.ImageNet(x)).ToDoubleArray(), tensors["output"].Values, $"{network} features output");
    }

    [TestCase("lpips-vgg", 5, 32, 1)]
    [TestCase("lpips-alex", 6, 64, 3)]
    public void LpipsMatchesThePackagesFormula(string network, int seed, int side, int channels)
    {
        var (tensors, model) = Perceptual(network, seed, side, channels);
        var lpips = new Lpips(model, Enumerable.Range(0, 5).Select(l => tensors[$"lin{l}.weight"].Values).ToList());
        Assert.That(lpips.Name, Is.EqualTo(network));
        var x0 = Input(tensors, "input");
        var x1 = Input(tensors, "input1");
        var d = lpips.Distance(x0, x1).Keep();
        d.Sum().Backward();
        AssertClose(d.ToDoubleArray(), tensors["distance"].Values, $"{network} distance");
        AssertClose(x1.Grad!.ToDoubleArray(), tensors["input1_grad"].Values, $"{network} gradient");
    }

    /// <summary>tools/export-weights.py's mapping of an lpips.LPIPS state dict (built by the script without the package) loads here.</summary>
    [TestCase("alex"), TestCase("vgg")]
    public void ExportedLpipsNamesLoad(string variant)
    {
        var lpips = RunScript("lpips_export_check.py", path => [variant, path, "7"], path => LpipsWeights.Load(path, "--lpips-weights"));
        Assert.That(lpips.Name, Is.EqualTo($"lpips-{variant}"));
        Assert.That(lpips.Network.TapChannels, Is.EqualTo(variant == "alex" ? new[] { 64, 192, 384, 256, 256 } : new[] { 64, 128, 256, 512, 512 }));
    }

    private static Tensor Input(Dictionary<string, SafeTensors.Entry> tensors, string name)
    {
        var x = Tensor.FromArray(tensors[name].Values, tensors[name].Shape, DType.Float64);
        x.RequiresGrad = true;
        return x;
    }

    /// <summary>perceptual.py's tensors for a network, and our network (float64) with its weights.</summary>
    private static (Dictionary<string, SafeTensors.Entry> Tensors, FeatureNetwork Model) Perceptual(string network, int seed, int side, int channels)
    {
        var tensors = RunScript("perceptual.py", path => [network, path, seed.ToString(), side.ToString(), channels.ToString()], path => SafeTensors.Read(path).Tensors);
        FeatureNetwork model = network.Contains("vgg") ? new Vgg16Features(new Random(0), DType.Float64) : new AlexNetFeatures(new Random(0), DType.Float64);
        model.Load(tensors, network, "the script wrote no such tensor");
        return (tensors, model);
    }

    /// <summary>Runs a reference/pytorch script that writes a safetensors file (its path among the arguments) and reads the file.</summary>
    private static T RunScript<T>(string script, Func<string, string[]> arguments, Func<string, T> read)
    {
        var python = PyTorchReference.RequirePython("torchvision", "python3-torchvision");
        var dir = Directory.CreateTempSubdirectory("blurvae-perceptual-");
        try
        {
            string path = Path.Combine(dir.FullName, "reference.safetensors");
            var (code, stdout, stderr) = PyTorchReference.Execute(python, [Path.Combine(Repository.Root(), "reference", "pytorch", script), .. arguments(path)], TimeSpan.FromMinutes(3));
            Assert.That(code, Is.Zero, $"{script} failed:\n{stdout}\n{stderr}");
            return read(path);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void AssertClose(double[] ours, double[] reference, string what)
    {
        Assert.That(ours, Has.Length.EqualTo(reference.Length), what);
        double scale = reference.Max(Math.Abs);
        for (int i = 0; i < ours.Length; i++)
            if (Math.Abs(ours[i] - reference[i]) > 1e-9 * scale)
                Assert.Fail($"{what}[{i}]: ours {ours[i]:R}, torchvision {reference[i]:R} (scale {scale:R})");
    }
}
