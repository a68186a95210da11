using System.Text.RegularExpressions;

namespace BlurVae.Tests.SelfTest;

/// <summary>
/// The shipped parity suite: the emulated CUDA backend passes every check (full mode, training steps included), the
/// CPU backend in float32 does too, and a backend with one op broken fails exactly that op's checks, by name.
/// </summary>
[TestFixture, Category("SelfTest")]
public class BackendParityTests
{
    /// <summary>
    /// The checks of each IBackend method, by op name. Upload and Download have none of their own: every check
    /// moves its inputs and outputs through them. Kept by hand, so that a new IBackend op without a check fails
    /// <see cref="EveryIBackendOpHasAPassingCheck"/>.
    /// </summary>
    internal static readonly Dictionary<string, Regex> ChecksOf = new()
    {
        [nameof(IBackend.Allocate)] = new(@"^memory\.allocate \(zero"),
        [nameof(IBackend.AllocateUninitialized)] = new(@"^memory\.allocate_uninitialized"),
        [nameof(IBackend.Copy)] = new(@"^memory\.copy$"),
        [nameof(IBackend.Fill)] = new(@"^memory\.fill$"),
        [nameof(IBackend.UnaryForward)] = new(@"^unary\.\w+\.forward$"),
        [nameof(IBackend.UnaryBackward)] = new(@"^unary\.\w+\.backward$"),
        [nameof(IBackend.BinaryForward)] = new(@"^binary\.\w+$"),
        [nameof(IBackend.Axpby)] = new(@"^axpby$"),
        [nameof(IBackend.AxpbyGroup)] = new(@"^axpby_group$"),
        [nameof(IBackend.WeightedSumForward)] = new(@"^weighted_sum\.forward$"),
        [nameof(IBackend.WeightedSumBackward)] = new(@"^weighted_sum\.backward$"),
        [nameof(IBackend.SumTo)] = new(@"^sum_to$"),
        [nameof(IBackend.BroadcastTo)] = new(@"^broadcast_to$"),
        [nameof(IBackend.CopyAxisSlice)] = new(@"^copy_axis_slice"),
        [nameof(IBackend.NarrowBackward)] = new(@"^narrow\.backward$"),
        [nameof(IBackend.SplitForward)] = new(@"^split\.forward$"),
        [nameof(IBackend.SplitBackward)] = new(@"^split\.backward"),
        [nameof(IBackend.Gemm)] = new(@"^gemm$"),
        [nameof(IBackend.BiasActivationForward)] = new(@"^bias_activation\.\w+\.forward$"),
        [nameof(IBackend.BiasActivationBackward)] = new(@"^bias_activation\.\w+\.backward$"),
        [nameof(IBackend.Conv2dForward)] = new(@"^conv2d\.forward"),
        [nameof(IBackend.Conv2dBackwardInput)] = new(@"^conv2d\.backward_input"),
        [nameof(IBackend.Conv2dBackwardWeight)] = new(@"^conv2d\.backward_weight"),
        [nameof(IBackend.BatchNormForwardTraining)] = new(@"^batchnorm\.forward_training(\+statistics)?$"),
        [nameof(IBackend.BatchNormForwardInference)] = new(@"^batchnorm\.forward_inference$"),
        [nameof(IBackend.BatchNormBackward)] = new(@"^batchnorm\.backward_training$"),
        [nameof(IBackend.BatchNormBackwardInference)] = new(@"^batchnorm\.backward_inference$"),
        [nameof(IBackend.BatchNormLeakyReluForwardTraining)] = new(@"^batchnorm_leaky_relu\.forward_training(\+statistics)?$"),
        [nameof(IBackend.BatchNormLeakyReluBackward)] = new(@"^batchnorm_leaky_relu\.backward_training$"),
        [nameof(IBackend.ReparameterizeForward)] = new(@"^reparameterize\.forward$"),
        [nameof(IBackend.ReparameterizeBackward)] = new(@"^reparameterize\.backward$"),
        [nameof(IBackend.LatentForward)] = new(@"^latent\.forward$"),
        [nameof(IBackend.LatentBackward)] = new(@"^latent\.backward"),
        [nameof(IBackend.SoftmaxForward)] = new(@"^softmax\.forward$"),
        [nameof(IBackend.SoftmaxBackward)] = new(@"^softmax\.backward$"),
        [nameof(IBackend.ResizeBilinearForward)] = new(@"^resize_bilinear\.forward$"),
        [nameof(IBackend.ResizeBilinearBackward)] = new(@"^resize_bilinear\.backward$"),
        [nameof(IBackend.Pool2dForward)] = new(@"^pool2d\.(max|avg)\.forward$"),
        [nameof(IBackend.Pool2dBackward)] = new(@"^pool2d\.(max|avg)\.backward$"),
        [nameof(IBackend.Rfft2)] = new(@"^rfft2$"),
        [nameof(IBackend.Irfft2)] = new(@"^irfft2$"),
        [nameof(IBackend.BlurKernelToOtfForward)] = new(@"^blur_kernel_to_otf\.forward$"),
        [nameof(IBackend.BlurKernelToOtfBackward)] = new(@"^blur_kernel_to_otf\.backward$"),
        [nameof(IBackend.WienerWeightForward)] = new(@"^wiener_weight\.forward$"),
        [nameof(IBackend.WienerWeightBackward)] = new(@"^wiener_weight\.backward$"),
        [nameof(IBackend.BlurKernelFitForward)] = new(@"^blur_kernel_fit\.forward$"),
        [nameof(IBackend.BlurKernelFitBackward)] = new(@"^blur_kernel_fit\.backward$"),
        [nameof(IBackend.FocalFrequencyWeight)] = new(@"^focal_frequency_weight$"),
        [nameof(IBackend.AdamStep)] = new(@"^adam$"),
        [nameof(IBackend.AdamStepGroup)] = new(@"^adam_group$"),
        [nameof(IBackend.SgdStep)] = new(@"^sgd$"),
    };

    private static readonly string[] MovedByEveryCheck = [nameof(IBackend.Upload), nameof(IBackend.Download)];

    private ParityResult _emulated = null!;
    private string _emulatedLog = "";

    [OneTimeSetUp]
    public void RunTheSuiteOnTheEmulatedBackend()
    {
        // A device of its own: the training steps' tensors are freed by finalizers, which KernelsLeakCheck would count on the shared one.
        var log = new StringWriter();
        _emulated = BackendParity.Run(new EmulatedBackend(new EmulatedDevice()), CpuBackend.Instance, new ParityOptions(), log);
        _emulatedLog = log.ToString();
        TestContext.Out.WriteLine(_emulated.Summary);
    }

    [Test]
    public void TheEmulatedBackendPassesEveryCheck()
    {
        Assert.That(_emulated.Failures.Select(f => f.Line), Is.Empty, _emulated.Summary);
        Assert.That(_emulated.AllPassed, Is.True);
        Assert.That(_emulated.Total, Is.GreaterThan(200), "the full suite has a few hundred checks");
        // One line per check, then the summary.
        foreach (var check in _emulated.Checks) Assert.That(_emulatedLog, Does.Contain(check.Line));
        Assert.That(_emulatedLog.TrimEnd(), Does.EndWith(_emulated.Summary));
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, _emulated.Checks.Select(c => c.Line)));
    }

    [Test]
    public void EveryIBackendOpHasAPassingCheck()
    {
        var methods = typeof(IBackend).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).Distinct().Except(MovedByEveryCheck).ToArray();
        Assert.That(methods, Is.EquivalentTo(ChecksOf.Keys), "an IBackend op without a parity check (or a stale entry in ChecksOf)");
        foreach (var (method, pattern) in ChecksOf)
            Assert.That(_emulated.Checks.Count(c => pattern.IsMatch(c.Op) && c.Passed), Is.GreaterThan(0), $"no passing check of {method}");
        foreach (var step in new[] { "train_step[wiener]", "train_step[l2]" })
        {
            foreach (var part in new[] { "losses", "vae_gradients", "generator_gradients", "vae_parameters_after_adam", "generator_parameters_after_adam", "running_statistics" })
                Assert.That(_emulated.Checks.Any(c => c.Op == $"{step}.{part}" && c.Passed), $"{step}.{part}");
        }
        // Both directions of the decoders' transposed convolutions.
        Assert.That(_emulated.Checks.Count(c => c.Sizes.StartsWith("transposed", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(3 * 5));
    }

    [Test]
    public void TheCpuBackendInFloat32PassesEveryCheck()
    {
        var result = BackendParity.Run(new PerturbingBackend(null), CpuBackend.Instance, new ParityOptions(), TextWriter.Null);
        Assert.That(result.Failures.Select(f => f.Line), Is.Empty, result.Summary);
        Assert.That(result.Total, Is.EqualTo(_emulated.Total), "the same checks whatever the candidate");
    }

    // Allocations have no output to perturb.
    public static IEnumerable<string> BreakableOps => ChecksOf.Keys.Where(k => k is not (nameof(IBackend.Allocate) or nameof(IBackend.AllocateUninitialized)));

    [TestCaseSource(nameof(BreakableOps))]
    public void ABrokenOpFailsItsChecksByName(string op)
    {
        var log = new StringWriter();
        var result = BackendParity.Run(new PerturbingBackend(op), CpuBackend.Instance, new ParityOptions { Quick = true, TrainingStep = false }, log);
        var pattern = ChecksOf[op];
        Assert.That(result.AllPassed, Is.False, result.Summary);
        Assert.That(result.Failures.Select(f => f.Op).Where(o => !pattern.IsMatch(o)), Is.Empty, "only the broken op's checks fail");
        Assert.That(result.Failures, Has.Count.EqualTo(result.Checks.Count(c => pattern.IsMatch(c.Op))), "every check of the broken op fails");
        var first = result.Failures[0];
        Assert.That(log.ToString(), Does.Contain("FAIL  " + first.Op));
        Assert.That(first.Failure, Does.Contain("vs reference"), "the line names the element and both values");
        Assert.That(result.Summary, Does.Contain("failed: " + first.Op));
    }

    [TestCase(nameof(IBackend.Conv2dBackwardWeight), "vae_gradients")]
    [TestCase(nameof(IBackend.AdamStepGroup), "parameters_after_adam")]
    public void ABrokenOpFailsTheTrainingStep(string op, string failingPart)
    {
        var result = TrainingStepParity.Run(new PerturbingBackend(op), CpuBackend.Instance, TrainingStepSetup.For(new ParityOptions { Quick = true }).First(), TextWriter.Null);
        Assert.That(result.Failures.Select(f => f.Op), Has.Some.Contains(failingPart), string.Join(Environment.NewLine, result.Checks.Select(c => c.Line)));
    }

    [Test]
    public void TheCandidateMustNotBeTheReference()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendParity.Run(CpuBackend.Instance, CpuBackend.Instance, new ParityOptions(), TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("same backend"));
    }
}
