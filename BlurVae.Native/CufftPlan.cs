namespace BlurVae.Native;

/// <summary>A batched cuFFT plan over contiguous data (cufftPlanMany with null embeddings).</summary>
public sealed unsafe class CufftPlan : IDisposable
{
    private bool _disposed;

    private CufftPlan(int handle, CufftType type)
    {
        Handle = handle;
        Type = type;
    }

    public int Handle { get; }
    public CufftType Type { get; }

    /// <summary>
    /// A plan of <paramref name="batch"/> transforms of logical size <paramref name="sizes"/> (e.g. [H, W] for a
    /// 2-D transform of the last two axes), data packed contiguously: real arrays of prod(sizes) elements, complex
    /// arrays of prod(sizes[..^1]) · (sizes[^1] / 2 + 1).
    /// </summary>
    public static CufftPlan Create(ReadOnlySpan<int> sizes, int batch, CufftType type)
    {
        if (sizes.Length is < 1 or > 3)
            throw new ArgumentException($"cuFFT transforms have rank 1 to 3; got {sizes.Length}.", nameof(sizes));
        foreach (var n in sizes)
            if (n <= 0) throw new ArgumentException($"Transform sizes must be positive; got {n}.", nameof(sizes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        var n2 = sizes.ToArray();
        int plan;
        fixed (int* n = n2)
            Cufft.Check(Cufft.cufftPlanMany(&plan, n2.Length, n, null, 1, 0, null, 1, 0, type, batch), "cufftPlanMany");
        return new CufftPlan(plan, type);
    }

    public void SetStream(CudaStream? stream) => Cufft.Check(Cufft.cufftSetStream(Handle, stream?.Handle ?? 0), "cufftSetStream");

    /// <summary>Runs the plan's transform (R2C, C2R, D2Z or Z2D) from <paramref name="input"/> to <paramref name="output"/>.</summary>
    public void Execute(ulong input, ulong output)
    {
        switch (Type)
        {
            case CufftType.R2C: Cufft.Check(Cufft.cufftExecR2C(Handle, input, output), "cufftExecR2C"); break;
            case CufftType.C2R: Cufft.Check(Cufft.cufftExecC2R(Handle, input, output), "cufftExecC2R"); break;
            case CufftType.D2Z: Cufft.Check(Cufft.cufftExecD2Z(Handle, input, output), "cufftExecD2Z"); break;
            case CufftType.Z2D: Cufft.Check(Cufft.cufftExecZ2D(Handle, input, output), "cufftExecZ2D"); break;
            default: throw new NotSupportedException($"cuFFT plans of type {Type} are not bound.");
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Cufft.Check(Cufft.cufftDestroy(Handle), "cufftDestroy");
    }
}
