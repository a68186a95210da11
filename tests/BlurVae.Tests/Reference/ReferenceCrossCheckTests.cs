
namespace BlurVae.Tests.Reference;

/// <summary>
/// Every forward output, loss, gradient of both steps of the alternating iteration, and parameter after one Adam step of
/// each, compared with the independent PyTorch mirror in reference/pytorch (crosscheck.py). Needs python3 with torch:
/// ignored without it, failed without it in CI.
/// </summary>
[TestFixture, Category("Reference")]
public class ReferenceCrossCheckTests
{
    // float64: 1e-9 relative; float32: 1e-4 relative or tighter where it holds. See Tolerances below for the floors.
    public static IEnumerable<ReferenceSpec> Cases()
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            yield return new("model", dtype, Architecture.A, 1, StepLoss: "wiener");
            yield return new("model", dtype, Architecture.A, 3, StepLoss: "wiener", Eps: 0.05);
            yield return new("model", dtype, Architecture.B, 1, StepLoss: "wiener", Eps: 0.05);
            yield return new("model", dtype, Architecture.B, 3, StepLoss: "wiener", KernelSize: 7);
            yield return new("model", dtype, Architecture.A, 3, StepLoss: "warmup");
            yield return new("model", dtype, Architecture.B, 3, StepLoss: "l1");
            yield return new("model", dtype, Architecture.A, 1, StepLoss: "bce");
            yield return new("model", dtype, Architecture.B, 1, StepLoss: "ffl");
            yield return new("model", dtype, Architecture.A, 3, StepLoss: "watson", Seed: 5);
            yield return new("model", dtype, Architecture.B, 1, StepLoss: "watson", Seed: 7);
            // Odd and non-square images (the architectures need a power-of-two side; the losses do not).
            yield return new("losses", dtype, ImageChannels: 3, Height: 15, Width: 17, KernelSize: 5);
            yield return new("losses", dtype, ImageChannels: 1, Height: 9, Width: 7, KernelSize: 7);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(ReferenceSpec spec)
    {
        var python = PyTorchReference.RequirePython();
        var dir = Directory.CreateTempSubdirectory("blurvae-reference-");
        try
        {
            var casePath = Path.Combine(dir.FullName, "case.safetensors");
            var outPath = Path.Combine(dir.FullName, "out.safetensors");
            var ours = ReferenceCase.Build(spec, casePath);
            var reference = PyTorchReference.Run(python, casePath, outPath);
            TensorComparison.AssertAllClose(ours, reference, name => Tolerances.For(spec, name), ReferenceCase.LearningRate);
        }
        finally
        {
            // BLURVAE_REFERENCE_KEEP=1 keeps the case and output files for debugging a mismatch with crosscheck.py.
            if (Environment.GetEnvironmentVariable("BLURVAE_REFERENCE_KEEP") == "1")
                TestContext.Out.WriteLine($"kept {dir.FullName}");
            else
                dir.Delete(recursive: true);
        }
    }
}
