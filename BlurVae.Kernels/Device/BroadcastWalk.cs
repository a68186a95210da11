namespace BlurVae.Kernels.Device;

/// <summary>
/// The divisor of kernels/common.cuh's fast_div: n / d as (mulhi(n, Magic) + n) >> Shift, exact for
/// 0 ≤ n, d &lt; 2^31 (Granlund–Montgomery, as PyTorch's IntDivider). Precomputed once per launch on the host, so
/// the broadcasting kernels decompose an index without a divide instruction.
/// </summary>
public readonly record struct FastDivider(int Divisor, uint Magic, uint Shift)
{
    public static FastDivider For(int divisor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(divisor, 1);
        uint shift = 0;
        while ((1L << (int)shift) < divisor) shift++;
        // magic = floor(2^32·(2^shift − d)/d) + 1, below 2^32 for d ≥ 1.
        uint magic = (uint)((((1UL << 32) * ((1UL << (int)shift) - (ulong)divisor)) / (ulong)divisor) + 1);
        return new FastDivider(divisor, magic, shift);
    }

    /// <summary>The kernel's arithmetic on the host (for tests): the quotient n / Divisor.</summary>
    public int Divide(int n)
    {
        ulong hi = ((ulong)(uint)n * Magic) >> 32;
        return (int)((hi + (uint)n) >> (int)Shift);
    }
}

/// <summary>
/// The axes a broadcasting kernel walks (binary_forward_kernel, broadcast_to_forward_kernel, sum_to_forward_kernel):
/// a coalesced shape given innermost first, per axis its extent with a <see cref="FastDivider"/>, and per operand
/// its element strides (0 along the axes it is broadcast on). Padded to <see cref="Capacity"/> axes for the
/// kernel's fixed parameter list.
/// </summary>
internal sealed class BroadcastWalk
{
    private readonly FastDivider[] _axes;
    private readonly int[][] _strides;

    /// <param name="shape">Coalesced extents, outermost first (as Shapes.Coalesce returns them).</param>
    /// <param name="operandStrides">Per operand, element strides over <paramref name="shape"/>, outermost first.</param>
    public BroadcastWalk(int capacity, int[] shape, params long[][] operandStrides)
    {
        if (shape.Length > capacity)
            throw new ArgumentException($"The broadcast needs {shape.Length} axes after coalescing [{string.Join(",", shape)}]; the kernels take at most {capacity}.");
        Capacity = capacity;
        Rank = shape.Length;
        _axes = new FastDivider[capacity];
        _strides = operandStrides.Select(_ => new int[capacity]).ToArray();
        for (int k = 0; k < capacity; k++)
        {
            int axis = shape.Length - 1 - k;
            _axes[k] = FastDivider.For(axis >= 0 ? shape[axis] : 1);
            for (int o = 0; o < operandStrides.Length; o++)
                _strides[o][k] = axis >= 0 ? checked((int)operandStrides[o][axis]) : 0;
        }
    }

    public int Capacity { get; }

    public int Rank { get; }

    /// <summary>rank, extents, magics, shifts, then each operand's strides: the kernel's parameters in its order.</summary>
    public void WriteArgs(List<LaunchArg> args)
    {
        args.Add(Rank);
        foreach (var a in _axes) args.Add(a.Divisor);
        foreach (var a in _axes) args.Add((int)a.Magic);
        foreach (var a in _axes) args.Add((int)a.Shift);
        foreach (var s in _strides)
            foreach (var v in s) args.Add(v);
    }
}
