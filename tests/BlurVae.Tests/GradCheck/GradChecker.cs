namespace BlurVae.Tests.GradCheck;

/// <summary>
/// Compares autograd gradients with central finite differences in float64. The output is projected on a fixed
/// random tensor R (L = Σ f(x)·R) so that every output element's gradient path is exercised, with weights that
/// cannot cancel by symmetry.
/// </summary>
public static class GradChecker
{
    /// <summary>Finite-difference step: ~ε^(1/3) for float64 balances truncation (h²) against rounding (ε/h).</summary>
    public const double Step = 1e-6;

    /// <summary>Default tolerance |analytic − numeric| ≤ Atol + Rtol·|numeric|.</summary>
    public const double Atol = 1e-7;
    public const double Rtol = 1e-5;

    public sealed record Result(bool Passed, double MaxError, string Report);

    public static Result Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double atol = Atol, double rtol = Rtol, int seed = 12345)
    {
        foreach (var x in inputs)
        {
            if (x.DType != DType.Float64) throw new ArgumentException("Gradient checks run in float64.");
            if (!x.IsLeaf) throw new ArgumentException("Gradient-check inputs must be leaves.");
            x.RequiresGrad = true;
            x.ZeroGrad();
        }
        var y = f(inputs);
        var r = Tensor.Randn(y.Shape, new Random(seed), DType.Float64);
        var loss = (y * r).Sum();
        loss.Backward();

        double Evaluate()
        {
            using var _ = GradMode.NoGrad();
            var yy = f(inputs);
            var a = yy.ToDoubleArray();
            var b = r.ToDoubleArray();
            double s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
            return s;
        }

        var report = new StringBuilder();
        bool passed = true;
        double maxError = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var data = ((CpuBuffer)x.Buffer).As<double>();
            var analytic = x.Grad?.ToDoubleArray() ?? new double[x.Length];
            int failures = 0;
            for (int i = 0; i < data.Length; i++)
            {
                double saved = data[i];
                data[i] = saved + Step;
                double plus = Evaluate();
                data[i] = saved - Step;
                double minus = Evaluate();
                data[i] = saved;
                double numeric = (plus - minus) / (2 * Step);
                double err = Math.Abs(analytic[i] - numeric);
                maxError = Math.Max(maxError, err);
                if (err > atol + rtol * Math.Abs(numeric))
                {
                    passed = false;
                    if (failures++ < 5)
                        report.AppendLine($"input {k} {Tensor.ShapeString(x.Shape)} element {i}: analytic {analytic[i]:G10}, numeric {numeric:G10}, error {err:G3}");
                }
            }
            if (failures > 5) report.AppendLine($"input {k}: {failures} mismatches in all");
        }
        return new Result(passed, maxError, report.Length == 0 ? $"all gradients match (max error {maxError:G3})" : report.ToString());
    }

    /// <summary>Asserts a passing check, printing the mismatches when it fails.</summary>
    public static void AssertGradients(Func<Tensor[], Tensor> f, params Tensor[] inputs) => AssertGradients(f, inputs, Atol, Rtol);

    public static void AssertGradients(Func<Tensor[], Tensor> f, Tensor[] inputs, double atol, double rtol)
    {
        var result = Check(f, inputs, atol, rtol);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    // ---- random inputs of awkward sizes ----

    public static Tensor Randn(int seed, params int[] shape) => Tensor.Randn(shape, new Random(seed), DType.Float64);

    /// <summary>Random values with |x| ≥ margin, so a finite difference never straddles a kink at 0 (relu, abs).</summary>
    public static Tensor RandnAwayFromZero(int seed, double margin, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new double[Tensor.ShapeLength(shape)];
        for (int i = 0; i < v.Length; i++)
        {
            double s = rng.NextDouble() < 0.5 ? -1 : 1;
            v[i] = s * (margin + 2 * rng.NextDouble());
        }
        return Tensor.FromArray(v, shape);
    }

    public static Tensor Positive(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new double[Tensor.ShapeLength(shape)];
        for (int i = 0; i < v.Length; i++) v[i] = 0.5 + 2 * rng.NextDouble();
        return Tensor.FromArray(v, shape);
    }
}
