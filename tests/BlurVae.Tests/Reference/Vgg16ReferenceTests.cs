using BlurVae.Training.Perceptual;

namespace BlurVae.Tests.Reference;

/// <summary>
/// Our VGG16 features against torchvision 0.14's (reference/pytorch/perceptual.py) on the same random weights in
/// float64: the five LPIPS taps and the input gradient of Σ mean(tap²). Side 36 exercises floor-mode pooling (36 → 18 → 9 → 4 → 2).
/// </summary>
[TestFixture, Category("Reference")]
public class Vgg16ReferenceTests
{
    [TestCase(3, 36)]
    public void MatchesTorchvision(int seed, int side)
    {
        var python = PyTorchReference.RequirePython("torchvision", "python3-torchvision");
        var dir = Directory.CreateTempSubdirectory("blurvae-vgg-");
        try
        {
            string path = Path.Combine(dir.FullName, "vgg.safetensors");
            string script = Path.Combine(Repository.Root(), "reference", "pytorch", "perceptual.py");
            var (code, stdout, stderr) = PyTorchReference.Execute(python, [script, path, seed.ToString(), side.ToString()], TimeSpan.FromMinutes(3));
            Assert.That(code, Is.Zero, $"perceptual.py failed:\n{stdout}\n{stderr}");
            var model = new Vgg16Features(new Random(0), DType.Float64);
            model.Load(path);
            var (tensors, _) = BlurVae.Training.Io.SafeTensors.Read(path);
            var input = tensors["input"];
            var x = Tensor.FromArray(input.Values, input.Shape, DType.Float64);
            x.RequiresGrad = true;
            var taps = model.Taps(x).Select(t => t.Keep()).ToList(); // read after Backward(): kept from the autograd's release
            Tensor loss = taps.Select(t => t.Square().Mean()).Aggregate((a, b) => a + b);
            loss.Backward();
            for (int i = 0; i < taps.Count; i++)
                AssertClose(taps[i].ToDoubleArray(), tensors[$"tap.{Vgg16Features.TapLayers[i]}"].Values, $"tap {Vgg16Features.TapLayers[i]}");
            AssertClose(x.Grad!.ToDoubleArray(), tensors["input_grad"].Values, "input gradient");
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
