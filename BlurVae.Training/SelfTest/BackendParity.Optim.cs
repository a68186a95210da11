
namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // The updates are a handful of float operations per element: a few roundings of the result, and of the terms where
    // they cancel: param ~1; m = β₁m + (1−β₁)g with terms ~0.1; v = β₂v + (1−β₂)g² with terms ~1e-2, where 1 − β₂
    // of a float32 β₂ = 0.999 is itself 1.3e-5 off (relative), so (1−β₂)g² ≤ 1e-3 carries an error of up to ~1.3e-8.
    private static readonly Tolerance ParamTol = new(2e-7, 1e-6), FirstMomentTol = new(5e-8, 2e-6), SecondMomentTol = new(3e-8, 2e-6);

    private static void Adam(ParityHarness h)
    {
        AdamStepParameters[] settings = [new(1e-3, 0.9, 0.999, 1e-8, 0, 1), new(2e-3, 0.8, 0.99, 1e-6, 0.01, 7)];
        foreach (var p in settings)
        {
            foreach (int n in Lengths(h))
            {
                // Arbitrary optimiser state (not only the zeros of step 1); v > 0 keeps the update m̂/(√v̂ + ε) moderate.
                h.Check("adam", $"n={n} lr={p.LearningRate} betas={p.Beta1}/{p.Beta2} eps={p.Epsilon} wd={p.WeightDecay} step={p.Step}",
                    [Out("param", h.Uniform(n), ParamTol), In("grad", h.Uniform(n)), Out("m", h.Uniform(n, -0.1, 0.1), FirstMomentTol), Out("v", h.Uniform(n, 1e-4, 1e-2), SecondMomentTol)],
                    (b, o) => b.AdamStep(o["param"], o["grad"], o["m"], o["v"], p));
            }
            // A group of tensors of the lengths above in one step (one multi-tensor launch on a device).
            int[] lengths = Lengths(h);
            string Name(string what, int i) => $"{what}{i}";
            Operand[] group = [.. lengths.SelectMany((n, i) => new[] { Out(Name("param", i), h.Uniform(n), ParamTol), In(Name("grad", i), h.Uniform(n)),
                Out(Name("m", i), h.Uniform(n, -0.1, 0.1), FirstMomentTol), Out(Name("v", i), h.Uniform(n, 1e-4, 1e-2), SecondMomentTol) })];
            h.Check("adam_group", $"lengths={string.Join(",", lengths)} lr={p.LearningRate} wd={p.WeightDecay} step={p.Step}", group,
                (b, o) => b.AdamStepGroup([.. lengths.Select((_, i) => o[Name("param", i)])], [.. lengths.Select((_, i) => o[Name("grad", i)])],
                    [.. lengths.Select((_, i) => o[Name("m", i)])], [.. lengths.Select((_, i) => o[Name("v", i)])], p));
        }
    }

    private static void Sgd(ParityHarness h)
    {
        // (momentum, dampening, weight decay, first step): plain SGD without a buffer, then the buffer's first and later steps.
        (double Momentum, double Dampening, double WeightDecay, bool First)[] settings = [(0, 0, 0, true), (0.9, 0.1, 0.01, true), (0.9, 0.1, 0.01, false)];
        foreach (var (momentum, dampening, wd, first) in settings)
        {
            foreach (int n in Lengths(h))
            {
                Operand[] operands = [Out("param", h.Uniform(n), ParamTol), In("grad", h.Uniform(n)), .. momentum != 0 ? new[] { Out("buf", h.Uniform(n), ParamTol) } : []];
                h.Check("sgd", $"n={n} lr=0.05 momentum={momentum} dampening={dampening} wd={wd}{(first ? " first-step" : "")}", operands,
                    (b, o) => b.SgdStep(o["param"], o["grad"], o.Optional("buf"), 0.05, momentum, dampening, wd, first));
            }
        }
    }
}
