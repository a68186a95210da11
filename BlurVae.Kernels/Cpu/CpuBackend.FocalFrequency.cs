namespace BlurVae.Kernels.Cpu;

// The focal frequency loss's online weight (the CPU twin of focal_frequency_weight_kernel in kernels/losses.cuh):
// per plane, |d|^α over its maximum, clamped, with the half spectrum's column multiplicity folded in.
public sealed partial class CpuBackend
{
    public void FocalFrequencyWeight(BackendBuffer weight, BackendBuffer spectrum, int planes, int height, int width, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(planes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (!(alpha >= 0) || double.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the focal exponent alpha must be finite and >= 0.");
        int cols = width / 2 + 1, bins = height * cols;
        ShapeRules.Length(weight, (long)planes * bins, nameof(weight));
        ShapeRules.Length(spectrum, 2L * planes * bins, nameof(spectrum));
        if (IsF32(spectrum)) FocalWeight(Arr<float>(weight), Arr<float>(spectrum), planes, bins, cols, width, alpha);
        else FocalWeight(Arr<double>(weight), Arr<double>(spectrum), planes, bins, cols, width, alpha);
    }

    private static void FocalWeight<T>(T[] weight, T[] spectrum, int planes, int bins, int cols, int width, double alpha)
        where T : unmanaged, System.Numerics.IFloatingPoint<T>
    {
        bool Interior(int v) => ShapeRules.IsInteriorColumn(v, width);
        var magnitudes = new double[bins];
        for (int p = 0; p < planes; p++)
        {
            // The maximum over the half spectrum is the maximum over the full one: every dropped bin mirrors a kept one.
            double max = double.NegativeInfinity;
            for (int f = 0; f < bins; f++)
            {
                double re = double.CreateChecked(spectrum[2 * (p * bins + f)]), im = double.CreateChecked(spectrum[2 * (p * bins + f) + 1]);
                magnitudes[f] = Math.Pow(Math.Sqrt(re * re + im * im), alpha);
                max = Math.Max(max, magnitudes[f]);
            }
            for (int f = 0; f < bins; f++)
            {
                double v = magnitudes[f] / max;
                if (double.IsNaN(v)) v = 0; // an all-zero plane: 0/0
                v = Math.Clamp(v, 0.0, 1.0);
                weight[p * bins + f] = T.CreateChecked(Interior(f % cols) ? 2 * v : v);
            }
        }
    }
}
