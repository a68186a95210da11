
namespace BlurVae.Training.Metrics;

/// <summary>Where <see cref="KernelWidth"/> measures distances from.</summary>
public enum KernelCentre
{
    /// <summary>The kernel's own centroid (Σ k·u, Σ k·v): a shifted delta has width 0.</summary>
    Centroid,

    /// <summary>The grid centre ((kh − 1)/2, (kw − 1)/2): an off-centre shift counts as width too.</summary>
    GridCentre,
}

/// <summary>
/// Mean radius of a predicted blur kernel: sqrt(Σ k(u,v)·((u − c_u)² + (v − c_v)²)) in pixels, with k normalised to
/// unit sum first (the kernel network emits unit-sum kernels already; normalising makes the number a property of
/// the kernel's shape only). The centre c is the centroid by default (<see cref="KernelCentre"/>). A delta gives 0.
/// Kernels must be finite, non-negative and not all zero.
/// </summary>
public static class KernelWidth
{
    /// <summary>One width per kernel of [N, kh, kw], [N, 1, kh, kw] or a single [kh, kw].</summary>
    public static double[] PerKernel(Tensor kernels, KernelCentre centre = KernelCentre.Centroid)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        var s = kernels.Shape;
        int n, kh, kw;
        switch (s.Length)
        {
            case 2: n = 1; kh = s[0]; kw = s[1]; break;
            case 3: n = s[0]; kh = s[1]; kw = s[2]; break;
            case 4 when s[1] == 1: n = s[0]; kh = s[2]; kw = s[3]; break;
            default:
                throw new ArgumentException($"'kernels' must be [N, kh, kw], [N, 1, kh, kw] or [kh, kw], not {Tensor.ShapeString(s)}.", nameof(kernels));
        }
        if (n < 1 || kh < 1 || kw < 1)
            throw new ArgumentException($"'kernels' must not be empty, got {Tensor.ShapeString(s)}.", nameof(kernels));
        var values = kernels.ToDoubleArray();
        var result = new double[n];
        for (int i = 0; i < n; i++)
            result[i] = Of(values.AsSpan(i * kh * kw, kh * kw), kh, kw, centre, i);
        return result;
    }

    /// <summary>Mean and population std of the per-kernel width over a batch.</summary>
    public static MeanStd Compute(Tensor kernels, KernelCentre centre = KernelCentre.Centroid) => MeanStd.Of(PerKernel(kernels, centre));

    /// <summary>The width of one row-major [kh, kw] kernel.</summary>
    public static double Of(ReadOnlySpan<double> kernel, int kh, int kw, KernelCentre centre = KernelCentre.Centroid) => Of(kernel, kh, kw, centre, 0);

    private static double Of(ReadOnlySpan<double> kernel, int kh, int kw, KernelCentre centre, int index)
    {
        if (!Enum.IsDefined(centre)) throw new ArgumentOutOfRangeException(nameof(centre), centre, "Unknown kernel centre.");
        if (kh < 1 || kw < 1 || kernel.Length != kh * kw)
            throw new ArgumentException($"A {kh}×{kw} kernel needs {kh * kw} values, got {kernel.Length}.", nameof(kernel));
        double sum = 0, su = 0, sv = 0;
        for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                double k = kernel[u * kw + v];
                if (!double.IsFinite(k) || k < 0)
                    throw new ArgumentException($"Kernel {index} has the value {k} at ({u}, {v}); blur kernels must be finite and non-negative.", nameof(kernel));
                sum += k;
                su += k * u;
                sv += k * v;
            }
        if (sum <= 0) throw new ArgumentException($"Kernel {index} is all zeros; its width is undefined.", nameof(kernel));
        double cu = centre == KernelCentre.Centroid ? su / sum : (kh - 1) / 2.0;
        double cv = centre == KernelCentre.Centroid ? sv / sum : (kw - 1) / 2.0;
        double m2 = 0;
        for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
                m2 += kernel[u * kw + v] * ((u - cu) * (u - cu) + (v - cv) * (v - cv));
        // Rounding can leave a delta's second moment a hair below zero.
        return Math.Sqrt(Math.Max(m2 / sum, 0));
    }
}
