namespace BlurVae.Kernels.Cpu;

/// <summary>
/// CPU fast Fourier transforms: batched 2-D real transforms (torch.fft.rfft2 / irfft2 layout, unnormalised) and a
/// batched 1-D complex transform, for any sizes.
/// </summary>
/// <remarks>
/// Design. Every transform is run "across lanes": many independent 1-D transforms of the same length are stored
/// split (separate real and imaginary arrays) and interleaved element-major, <c>re[k * lanes + lane]</c>, so each
/// butterfly operates on whole <see cref="Vector{T}"/>s of independent lanes. This needs no shuffles, vectorises
/// every radix (including odd ones) the same way and keeps the access pattern unit-stride.
/// The 1-D engine is a Stockham autosort (no bit reversal) mixed-radix Cooley–Tukey with radix 8/4/2, 3, and a generic
/// odd-prime butterfly for primes up to <see cref="MaxRadix"/>; lengths with a larger prime factor use Bluestein's
/// chirp-z algorithm over a power-of-two transform. Inverse transforms reuse the forward plan through the identity
/// IDFT(x) = swap(DFT(swap(x))), where swap exchanges real and imaginary parts — free in split storage.
/// The 2-D real transform packs two real rows into one complex row (row j as real part, row j + ⌈h/2⌉ as imaginary),
/// transforms rows over w, separates the two half spectra by Hermitian symmetry, then transforms the w/2+1 complex
/// columns over h. Several small images are put side by side in the lanes so short transforms still fill vectors.
/// Plans (radices and twiddles, computed in double, stored as T) are cached per length; scratch is per thread.
/// Files: this one (the public entry points and their checks), Fft.Transforms.cs (the per-type drivers), Fft.Layout.cs
/// (transposes, interleaving), Fft.Plan.cs (factorisation, stage loop, Bluestein), Fft.Butterflies.cs (the radices).
/// </remarks>
public static partial class Fft
{
    /// <summary>Largest prime handled by the direct odd-radix butterfly; lengths with larger prime factors use Bluestein.
    /// A radix-p butterfly costs about p/2 complex multiply-adds per point, Bluestein three power-of-two FFTs of
    /// 2–4× the length plus chirp products; measured (float, 64 lanes) they break even near p ≈ 90.</summary>
    private const int MaxRadix = 89;

    /// <summary>Below this many input points per call the batch runs on the calling thread: waking another core costs
    /// microseconds, comparable to transforming a few small images.</summary>
    private const long ParallelThreshold = 16_384;

    /// <summary>
    /// Batched 2-D real-to-complex DFT over the last two axes, unnormalised, forward sign e^{-2πi(k1·m/h + k2·n/w)}.
    /// </summary>
    /// <param name="y">Output, batch·h·(w/2+1)·2 reals: complex interleaved (re, im), row-major [batch, h, w/2+1] —
    /// the layout and values of torch.fft.rfft2(x, norm="backward") viewed as real. Must not overlap <paramref name="x"/>.</param>
    /// <param name="x">Input, batch·h·w reals, row-major [batch, h, w].</param>
    /// <param name="batch">Number of images (0 is a no-op).</param>
    /// <param name="h">Rows per image, ≥ 1.</param>
    /// <param name="w">Columns per image, ≥ 1.</param>
    public static void Rfft2<T>(Span<T> y, ReadOnlySpan<T> x, int batch, int h, int w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, h, w);
        CheckLength(x.Length, (long)batch * h * w, nameof(x));
        CheckLength(y.Length, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        if (((ReadOnlySpan<T>)y).Overlaps(x)) throw new ArgumentException("The output must not overlap the input.", nameof(y));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Rfft2(y, x, batch, h, w);
        }
        else
        {
            // Half, NFloat, ...: Vector<T> does not support them, so compute in double and round once at the end.
            var yd = new double[y.Length];
            Engine<double>.Rfft2(yd, ToDouble(x), batch, h, w);
            FromDouble(y, yd);
        }
    }

    /// <summary>
    /// Batched 2-D complex-to-real inverse DFT over the last two axes, unnormalised (no 1/(h·w)), sign e^{+2πi(...)}.
    /// Equals h·w·torch.fft.irfft2(c, s=(h, w), norm="backward"): the input is the non-redundant half of a Hermitian
    /// spectrum; after the inverse transform over h, the imaginary parts of the self-conjugate bins of the last axis
    /// (column 0, and column w/2 when w is even) are ignored, exactly as irfft does.
    /// </summary>
    /// <param name="x">Output, batch·h·w reals, row-major [batch, h, w]. Must not overlap <paramref name="c"/>.</param>
    /// <param name="c">Input, batch·h·(w/2+1)·2 reals, complex interleaved [batch, h, w/2+1]. Not modified.</param>
    /// <param name="batch">Number of images (0 is a no-op).</param>
    /// <param name="h">Rows per image, ≥ 1.</param>
    /// <param name="w">Columns per image (the real output width), ≥ 1.</param>
    public static void Irfft2<T>(Span<T> x, ReadOnlySpan<T> c, int batch, int h, int w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, h, w);
        CheckLength(c.Length, (long)batch * h * (w / 2 + 1) * 2, nameof(c));
        CheckLength(x.Length, (long)batch * h * w, nameof(x));
        if (((ReadOnlySpan<T>)x).Overlaps(c)) throw new ArgumentException("The output must not overlap the input.", nameof(x));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Irfft2(x, c, batch, h, w);
        }
        else
        {
            var xd = new double[x.Length];
            Engine<double>.Irfft2(xd, ToDouble(c), batch, h, w);
            FromDouble(x, xd);
        }
    }

    /// <summary>
    /// Batched 1-D complex DFT of length n, unnormalised. Forward sign e^{-2πi k·j/n}; <paramref name="inverse"/>
    /// uses e^{+2πi k·j/n} without the 1/n factor.
    /// </summary>
    /// <param name="y">Output, batch·n·2 reals, complex interleaved [batch, n]. May not overlap <paramref name="x"/>.</param>
    /// <param name="x">Input, batch·n·2 reals, complex interleaved [batch, n].</param>
    /// <param name="batch">Number of transforms (0 is a no-op).</param>
    /// <param name="n">Transform length, ≥ 1.</param>
    /// <param name="inverse">True for the inverse (conjugate) transform.</param>
    public static void Complex1D<T>(Span<T> y, ReadOnlySpan<T> x, int batch, int n, bool inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, 1, n, nameof(n));
        CheckLength(x.Length, (long)batch * n * 2, nameof(x));
        CheckLength(y.Length, (long)batch * n * 2, nameof(y));
        if (((ReadOnlySpan<T>)y).Overlaps(x)) throw new ArgumentException("The output must not overlap the input.", nameof(y));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Complex1D(y, x, batch, n, inverse);
        }
        else
        {
            var yd = new double[y.Length];
            Engine<double>.Complex1D(yd, ToDouble(x), batch, n, inverse);
            FromDouble(y, yd);
        }
    }

    private static void CheckShape(int batch, int h, int w, string wName = "w")
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 0.");
        if (h < 1) throw new ArgumentOutOfRangeException(nameof(h), h, "h must be >= 1.");
        if (w < 1) throw new ArgumentOutOfRangeException(wName, w, $"{wName} must be >= 1.");
        // Scratch (padded lanes, Bluestein buffers up to 4× the length, two of them) is indexed with ints.
        if (8L * (h + 64) * (w + 64) > int.MaxValue)
            throw new ArgumentException("The transform is too large.", wName);
    }

    private static void CheckLength(int actual, long expected, string name)
    {
        if (expected > int.MaxValue) throw new ArgumentException("The tensor is too large for a span.", name);
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new double[s.Length];
        for (int i = 0; i < s.Length; i++) d[i] = double.CreateTruncating(s[i]);
        return d;
    }

    private static void FromDouble<T>(Span<T> dst, double[] src) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateTruncating(src[i]);
    }
}
