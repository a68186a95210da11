using System.Diagnostics;
using BlurVae.Training.Train;

namespace BlurVae.Training.SelfTest;

/// <summary>
/// One full alternating training step of a small VAE on two backends: two trainers with the same options and seed
/// (so the same initial weights), one iteration (ELBO step on the VAE, kernel-fit step on G_γ, each with Adam) on the
/// same batch and noise; then the loss terms, the gradients each optimiser stepped with, every parameter after the
/// step and the BatchNorm running statistics are compared. Both trainers run in float32.
/// </summary>
public static class TrainingStepParity
{
    // The backends sum in different orders (tiled conv kernels and block reductions against im2col + SIMD GEMM), so
    // every value differs by float32 rounding, accumulated through the network.
    private static readonly Tolerance LossTol = new(1e-6, 1e-4), ParameterTol = new(1e-5, 1e-4), BufferTol = new(1e-5, 1e-4);
    // Gradients: absolute tolerance relative to the largest gradient of the same model (VAE or G_γ), since some exact
    // gradients are 0 (a conv bias followed by BatchNorm) and both backends then return rounding noise of that scale.
    private const double GradScaleTol = 1e-5, GradRtol = 1e-3;

    /// <summary>Runs the check alone (without the op checks), printing one line per comparison.</summary>
    public static ParityResult Run(IBackend candidate, IBackend reference, TrainingStepSetup setup, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var h = new ParityHarness(candidate, reference, new ParityOptions { Seed = setup.Seed, ReferenceDType = DType.Float32 }, log);
        Run(h, setup);
        return new ParityResult(candidate.Name, reference.Name, h.Checks, clock.Elapsed);
    }

    internal static void Run(ParityHarness h, TrainingStepSetup setup)
    {
        string tag = $"train_step[{setup.Loss.ToString().ToLowerInvariant()}]", sizes = setup.Describe();
        Snapshot reference, candidate;
        try
        {
            reference = OneStep(setup, h.Reference);
        }
        catch (Exception e)
        {
            h.Record(tag, sizes, [], $"the reference backend {h.Reference.Name} threw {e.GetType().Name}: {e.Message}");
            return;
        }
        try
        {
            candidate = OneStep(setup, h.Candidate);
        }
        catch (Exception e)
        {
            h.Record(tag, sizes, [], $"{h.Candidate.Name} threw {e.GetType().Name}: {e.Message}");
            return;
        }

        static Comparison Scalar(string name, double r, double c) => new(name, [r], [c], LossTol);
        var (rr, cr) = (reference.Result, candidate.Result);
        h.Record($"{tag}.losses", sizes,
            [Scalar("elbo", rr.Loss, cr.Loss), Scalar("reconstruction", rr.Reconstruction, cr.Reconstruction), Scalar("kl", rr.Kl, cr.Kl), Scalar("kernel_fit", rr.BlurKernelFit, cr.BlurKernelFit)],
            cr.WienerActive != rr.WienerActive ? $"the Wiener term is {(cr.WienerActive ? "" : "not ")}active on {h.Candidate.Name}" : null);

        var problems = candidate.Problems.Concat(reference.Problems.Select(p => $"reference: {p}")).ToList();
        var unmatched = candidate.Parameters.Keys.ToHashSet();
        unmatched.SymmetricExceptWith(reference.Parameters.Keys);
        if (unmatched.Count > 0) problems.Add($"parameters on one backend only: {string.Join(", ", unmatched)}");
        if (problems.Count > 0)
            h.Record($"{tag}.parameters", sizes, [], string.Join("; ", problems));

        foreach (var model in new[] { "vae", "generator" })
        {
            var names = reference.Parameters.Keys.Where(k => k.StartsWith(model + ".", StringComparison.Ordinal) && candidate.Parameters.ContainsKey(k)).ToArray();
            if (names.Length == 0)
            {
                h.Record($"{tag}.{model}", sizes, [], $"no {model} parameters to compare");
                continue;
            }
            double gradScale = names.Max(n => reference.Parameters[n].Grad.Max(g => Math.Abs((double)g)));
            var gradTol = new Tolerance(GradScaleTol * gradScale, GradRtol);
            var grads = new List<Comparison>();
            var steps = new List<Comparison>();
            int elements = 0, signFlips = 0;
            foreach (var name in names)
            {
                var (p0, g0) = reference.Parameters[name];
                var (p1, g1) = candidate.Parameters[name];
                grads.Add(new Comparison(name + ".grad", ToDouble(g0), ToDouble(g1), gradTol));
                if (p0.Length != p1.Length || g0.Length != g1.Length || g0.Length != p0.Length)
                {
                    steps.Add(new Comparison(name, ToDouble(p0), ToDouble(p1), ParameterTol));
                    continue;
                }
                // Both started from the same weights, and Adam's first step moves a parameter by lr·g/(|g| + ε)
                // (m̂ = g, √v̂ = |g|): about ±lr, the sign of g. Where |g| is at the gradients' rounding-noise level
                // (a conv bias before BatchNorm has exact gradient 0) that sign is not fixed by the maths, so the
                // parameters may differ by up to 2·lr; the candidate's parameter must still be the one its own
                // gradient implies, which checks the Adam update on every element.
                var expected = new double[p0.Length];
                for (int i = 0; i < p0.Length; i++)
                {
                    elements++;
                    if (Math.Sign(g0[i]) != Math.Sign(g1[i])) signFlips++;
                    expected[i] = p0[i] + setup.Lr * (AdamFirstStep(g0[i]) - AdamFirstStep(g1[i]));
                }
                steps.Add(new Comparison(name, expected, ToDouble(p1), ParameterTol));
            }
            h.Record($"{tag}.{model}_gradients", $"{sizes} scale={gradScale:G3}", grads);
            h.Record($"{tag}.{model}_parameters_after_adam", $"{sizes} {signFlips}/{elements} grad signs differ", steps);
        }

        var buffers = reference.Buffers.Keys.Where(candidate.Buffers.ContainsKey)
            .Select(name => new Comparison(name, ToDouble(reference.Buffers[name]), ToDouble(candidate.Buffers[name]), BufferTol)).ToArray();
        h.Record($"{tag}.running_statistics", sizes, buffers,
            buffers.Length == reference.Buffers.Count && buffers.Length == candidate.Buffers.Count ? null : "the models' buffers differ in name");
    }

    private sealed record Snapshot(StepResult Result, Dictionary<string, (float[] Value, float[] Grad)> Parameters, Dictionary<string, float[]> Buffers, List<string> Problems);

    private static Snapshot OneStep(TrainingStepSetup setup, IBackend backend)
    {
        var trainer = new Trainer(setup.ToOptions(), 1, setup.Side, backend);
        var x = Tensor.FromArray(setup.ImageBatch(), [setup.Batch, 1, setup.Side, setup.Side], backend: backend);
        var eps = Tensor.Randn([setup.Batch, setup.Latent], new Random(setup.Seed), backend: backend);
        var result = trainer.Step(x, eps, epoch: 0);
        // Each optimiser zeroes its gradients before its own step, so after Step they still hold what it stepped with.
        var parameters = new Dictionary<string, (float[], float[])>();
        var problems = new List<string>();
        foreach (var (name, value) in trainer.Vae.NamedParameters("vae.").Concat(trainer.Generator.NamedParameters("generator.")))
        {
            if (!ReferenceEquals(value.Backend, backend)) problems.Add($"{name} is on {value.Backend.Name}, not {backend.Name}");
            if (value.Grad is null)
            {
                problems.Add($"{name} has no gradient after the step");
                continue;
            }
            parameters.Add(name, (value.ToFloatArray(), value.Grad.ToFloatArray()));
        }
        var buffers = trainer.Vae.NamedBuffers("vae.").ToDictionary(b => b.Name, b => b.Value.ToFloatArray());
        return new Snapshot(result, parameters, buffers, problems);
    }

    /// <summary>Adam's first update over lr: m̂/(√v̂ + ε) with m̂ = g and √v̂ = |g| (the β's cancel in the bias corrections).</summary>
    private static double AdamFirstStep(double g) => g / (Math.Abs(g) + 1e-8);

    private static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);
}
