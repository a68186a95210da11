using BlurVae.Training.Losses;
using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The analytic FLOP count of the benchmarked parts, from the graphs they build: one alternating step of a
/// <see cref="Trainer"/> (the ELBO graph, then the G_γ graph, each forward and backward) and the loss alone.
/// Builds the graphs once without running backward; BN running statistics move by one forward pass, harmless
/// before a benchmark's warm-up.
/// </summary>
public static class StepFlops
{
    /// <summary>The step as Trainer.Step builds it with the Wiener term active (or the L2 term for --loss l2).</summary>
    public static PartFlops Step(Trainer trainer, Tensor x, Tensor eps)
    {
        // A copy of the batch marked as requiring a gradient only so the ops reading it are recorded (counted forward,
        // never differentiated): the kernel fit's FFT of x would otherwise be invisible to the walk.
        var data = x.Detach();
        data.RequiresGrad = true;
        var o = trainer.Options;

        // (1) ELBO: γ frozen, as in Trainer.Step, so G_γ's layers count their input gradients but no weight gradients.
        FlopCount forward, backward;
        VaeOutputs outputs;
        var generatorParameters = trainer.Generator.Parameters().ToList();
        foreach (var p in generatorParameters) p.RequiresGrad = false;
        try
        {
            var output = trainer.Vae.Run(data, eps);
            Tensor reconstruction;
            if (o.Loss == LossKind.Wiener)
            {
                var kernel = trainer.KernelFor(output.Z);
                reconstruction = WienerBlurLoss.Compute(data, output.Reconstruction, kernel, o.WienerC);
                if (o.Eps is double e)
                    reconstruction = reconstruction + LogDeterminant.Compute(kernel, trainer.Channels, trainer.Side, trainer.Side, e);
            }
            else if (o.Loss == LossKind.L2)
            {
                reconstruction = ReconstructionLoss.Create(ReconstructionLossKind.L2).Compute(data, output.Reconstruction);
            }
            else
            {
                throw new ArgumentException($"--loss must be wiener or l2 for the benchmark (got {o.Loss.ToString().ToLowerInvariant()}).");
            }
            var loss = WeightedSumFunction.Forward([reconstruction, output.Kl], [1.0, o.Beta]); // as Trainer.StepEagerly
            (forward, backward) = FlopCounter.Count(loss, [data]);
            outputs = new VaeOutputs(output.Z, output.Reconstruction);
        }
        finally
        {
            foreach (var p in generatorParameters) p.RequiresGrad = true;
        }

        // (2) G_γ step on the detached z and x̂; x̂ marked like the batch, so the fit's transform of it is counted.
        var reconstructionData = AsData(outputs.Reconstruction);
        var fit = BlurKernelFitLoss.Compute(data, reconstructionData, trainer.Generator.Forward(outputs.Z.Detach()));
        var (f2, b2) = FlopCounter.Count(fit, [data, reconstructionData]);
        return new PartFlops("step", forward + f2, backward + b2);
    }

    /// <summary>The loss part: Wiener term and kernel fit, forward and backward (see <see cref="LossPart"/>).</summary>
    public static PartFlops Loss(LossPart part)
    {
        var data = AsData(part.X);
        var fitXHat = AsData(part.XHat);
        var (wiener, fit) = part.Build(data, fitXHat);
        var (f1, b1) = FlopCounter.Count(wiener, [data]);
        var (f2, b2) = FlopCounter.Count(fit, [data, fitXHat]);
        return new PartFlops("loss", f1 + f2, b1 + b2);
    }

    // A detached copy marked as requiring a gradient only so that the ops reading it are recorded (counted forward,
    // never differentiated: it is passed to the counter as a data leaf).
    private static Tensor AsData(Tensor t)
    {
        var copy = t.Detach();
        copy.RequiresGrad = true;
        return copy;
    }

    private readonly record struct VaeOutputs(Tensor Z, Tensor Reconstruction);
}
