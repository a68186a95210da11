namespace BlurVae.Training.SelfTest;

/// <summary>
/// The one tolerance model of both parity suites (the shipped <see cref="BackendParity"/> and the kernel tests of
/// tests/BlurVae.Tests/Parity): a check passes where |candidate − reference| ≤ Atol + Rtol·|reference| for every
/// element. Rtol bounds the rounding of a large result; Atol covers results near zero, where only an absolute error
/// means anything. An output that sums many terms gets its Atol from <see cref="OfSum"/>, the one rule for how
/// rounding grows with the number of terms.
/// </summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    /// <summary>Atol per term of a float32 sum: 8 units of float32's roundoff 2^-24.</summary>
    public const double Float32PerTerm = 1.0 / (1 << 21);

    /// <summary>Atol per term of a TF32 product (inputs rounded to a 10-bit mantissa, ≤ 2^-11 each, so ≤ ~2^-10 a product).</summary>
    public const double Tf32PerTerm = 1.0 / (1 << 10);

    public double For(double reference) => Atol + Rtol * Math.Abs(reference);

    public override string ToString() => $"atol {Atol:G2} + rtol {Rtol:G2}·|ref|";

    /// <summary>
    /// An output that sums <paramref name="terms"/> terms of magnitude ≤ <paramref name="magnitude"/> in any order
    /// (tiles, tree reductions, SIMD lanes, FMA or not): Atol = perTerm·magnitude·(terms + 1), the +1 for the final
    /// rounding. The budget grows linearly with the terms — the shape of the worst-case bound γ_n·Σ|t_i| — rather
    /// than like √terms (the random-walk estimate of the typical error, which the kernel tests once used): a linear
    /// budget holds for every seed and summation order instead of by cancelling errors, and at 8 ulps per term it
    /// still sits orders of magnitude below a wrong index or a dropped term (off by O(magnitude)). Against a float32
    /// reference (the kernel tests, `ReferenceDType = Float32`) both sides round, each by about an ulp per term,
    /// which the 8-ulp budget covers.
    /// </summary>
    public static Tolerance OfSum(int terms, double magnitude = 1, double rtol = 1e-5, double perTerm = Float32PerTerm) =>
        new(perTerm * magnitude * (terms + 1), rtol);

    /// <summary>
    /// A convolution output that sums <paramref name="terms"/> products of values in [-1, 1]: FP32 kernels by
    /// <see cref="OfSum"/>, TF32 tensor-core kernels with <see cref="Tf32PerTerm"/> per term and rtol 1e-3.
    /// </summary>
    public static Tolerance OfConv(int terms, MathPrecision math) =>
        math == MathPrecision.Tf32 ? OfSum(terms, rtol: 1e-3, perTerm: Tf32PerTerm) : OfSum(terms);

    /// <summary>
    /// Batch statistics [c, 2] (mean, Σ (v − mean)²) of <paramref name="count"/> values of magnitude ≤
    /// <paramref name="magnitude"/> that both sides hold exactly (a convolution's statistics are checked on outputs
    /// that are exact in float32, so only the statistics' own sums round): the mean's error is its sum's,
    /// <see cref="OfSum"/> divided by the count (Atol); the centred sum's is relative, 8 ulps per term (Rtol).
    /// </summary>
    public static Tolerance OfBatchStatistics(int count, double magnitude) =>
        new(OfSum(count, magnitude).Atol / Math.Max(1, count) * 2, Float32PerTerm * (count + 1) + 1e-5);
}
