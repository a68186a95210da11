namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Floating-point operations of one pass, split by kind. Matrix: convolutions, transposed convolutions, linears and
/// matrix products at 2 per multiply–add. Fft: real 2-D transforms at 2.5·n·log2 n for n = H·W points (half of the
/// usual 5·n·log2 n of a complex transform, since a real transform does half the work). Everything else
/// (elementwise ops, batch norm, softmax, reductions, Adam) is not counted: it is memory-bound and small.
/// </summary>
public readonly record struct FlopCount(double Matrix, double Fft)
{
    public double Total => Matrix + Fft;

    public static FlopCount operator +(FlopCount a, FlopCount b) => new(a.Matrix + b.Matrix, a.Fft + b.Fft);
}

/// <summary>The count of one benchmarked part (the alternating step, or the loss alone), forward and backward apart.</summary>
public sealed record PartFlops(string Part, FlopCount Forward, FlopCount Backward)
{
    public FlopCount Total => Forward + Backward;
}
