namespace BlurVae.Kernels;

/// <summary>
/// The size rules of the ops that both backends implement, in one place: the CPU backend, the device backend and its
/// launchers call these before touching memory, so a rule cannot drift between backends.
/// </summary>
public static class ShapeRules
{
    /// <summary>
    /// Whether column v of a half spectrum (w/2+1 columns of a real w-point transform) stands for two full-spectrum
    /// columns, v and w−v. Column 0 and, for even w, column w/2 are their own mirror images and count once.
    /// kernels/wiener.cuh's <c>half_spectrum_multiplicity</c> is the device twin of this rule.
    /// </summary>
    public static bool IsInteriorColumn(int v, int w) => v != 0 && !(w % 2 == 0 && v == w / 2);

    /// <summary>How many full-spectrum columns half-spectrum column v stands for: 1 or 2.</summary>
    public static int ColumnMultiplicity(int v, int w) => IsInteriorColumn(v, w) ? 2 : 1;

    /// <summary>Terms a weighted sum takes (WEIGHTED_SUM_TERMS of kernels/elementwise.cuh).</summary>
    public const int MaxWeightedSumTerms = 8;

    /// <summary>The rules of a weighted sum (IBackend.WeightedSum*): 1 to 8 terms, one weight each, each of <paramref name="length"/> elements.</summary>
    public static void WeightedSum(IReadOnlyList<BackendBuffer> terms, IReadOnlyList<double> weights, int length, string name)
    {
        ArgumentNullException.ThrowIfNull(terms, name);
        ArgumentNullException.ThrowIfNull(weights);
        if (terms.Count is < 1 or > MaxWeightedSumTerms)
            throw new ArgumentOutOfRangeException(name, terms.Count, $"a weighted sum takes 1 to {MaxWeightedSumTerms} terms");
        if (weights.Count != terms.Count) throw new ArgumentException($"{terms.Count} terms but {weights.Count} weights.", nameof(weights));
        for (int k = 0; k < terms.Count; k++) Length(terms[k], length, $"{name}[{k}]");
    }

    /// <summary>
    /// Outputs that one call writes (the axpby group's y, a weighted sum's dx) must each be a buffer of its own: none is
    /// another output or one of <paramref name="inputs"/>. <paramref name="same"/> is the backend's identity (the buffer
    /// object on the CPU, the device address on a GpuDevice).
    /// </summary>
    public static void OwnOutputs<T>(IReadOnlyList<T> outputs, string outputsName, IReadOnlyList<T> inputs, string inputsName, Func<T, T, bool> same)
    {
        for (int k = 0; k < outputs.Count; k++)
            for (int j = 0; j < Math.Max(k, inputs.Count); j++)
            {
                string? other = j < inputs.Count && same(outputs[k], inputs[j]) ? inputsName : j < k && same(outputs[k], outputs[j]) ? outputsName : null;
                if (other is not null)
                    throw new ArgumentException($"{outputsName}[{k}] is also {other}[{j}]: every output must be a buffer of its own.", outputsName);
            }
    }

    /// <summary>
    /// The rules of a batch of n blur kernels ks×ks embedded in an h×w grid (BlurKernelOtf): ks odd, so the kernel
    /// has a centre pixel, and no larger than the grid, so the circular roll is one-to-one. Returns n·h·w.
    /// </summary>
    public static int BlurKernelGrid(int n, int kernelSize, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        if (kernelSize % 2 == 0)
            throw new ArgumentException($"the blur kernel size must be odd so the kernel has a centre pixel, got {kernelSize}.", nameof(kernelSize));
        if (height < kernelSize || width < kernelSize)
            throw new ArgumentException($"a {kernelSize}x{kernelSize} blur kernel does not fit a {height}x{width} image; the circular model needs H, W >= ks.",
                height < kernelSize ? nameof(height) : nameof(width));
        return checked(n * height * width);
    }

    /// <summary>h·(w/2+1) bins of one half spectrum of n images with c channels; every element count must fit an int.</summary>
    public static int HalfSpectrumBins(int n, int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int bins = checked(height * (width / 2 + 1));
        _ = checked(2 * n * channels * bins);
        return bins;
    }

    /// <summary>The Wiener constant C of F*(k)/(|F(k)|²+C): finite and ≥ 0.</summary>
    public static void WienerConstant(double constant)
    {
        if (!(constant >= 0) || double.IsInfinity(constant))
            throw new ArgumentOutOfRangeException(nameof(constant), constant, "the Wiener constant C must be finite and >= 0.");
    }

    /// <summary>The activations a Linear layer fuses (IBackend.BiasActivation*): none, Relu, LeakyRelu with a slope ≥ 0 (its
    /// backward reads the branch from the output) or Relu6.</summary>
    public static void LinearActivation(UnaryOp? activation, double alpha)
    {
        if (activation is null or UnaryOp.Relu or UnaryOp.Relu6 || (activation == UnaryOp.LeakyRelu && alpha >= 0)) return;
        throw new ArgumentOutOfRangeException(nameof(activation), activation, $"a Linear layer fuses ReLU, LeakyReLU with a slope >= 0 (got {alpha}) or ReLU6");
    }

    /// <summary>A buffer holds exactly the elements an op's sizes say.</summary>
    public static void Length(BackendBuffer buffer, long expected, string name)
    {
        if (buffer.Length != expected)
            throw new ArgumentException($"{name} has {buffer.Length} elements, expected {expected}.", name);
    }

    /// <summary>The buffers of a convolution match its geometry (the weight gradient passes dw as w, dy as y).</summary>
    public static void Conv(ConvGeometry g, BackendBuffer x, BackendBuffer w, BackendBuffer y, BackendBuffer? bias)
    {
        Length(x, g.InputLength, "input");
        Length(w, g.WeightLength, "weight");
        Length(y, g.OutputLength, "output");
        if (bias is not null) Length(bias, g.OutChannels, "bias");
    }
}
