namespace BlurVae.Kernels.Cpu;

/// <summary>Shape arithmetic for broadcasting loops: coalescing dims so inner loops run over long rows.</summary>
internal static class Shapes
{
    public static long Product(int[] shape)
    {
        long p = 1;
        foreach (var d in shape) p *= d;
        return p;
    }

    /// <summary>
    /// Merges adjacent axes that broadcast alike in both operands and drops axes of extent 1 in the output, so that
    /// e.g. [N,C,H,W] op [1,C,1,1] becomes [N,C,HW] op [1,C,1]. Returns the output shape and, per operand, a
    /// flag per axis: true where that operand is broadcast (extent 1) along the axis.
    /// </summary>
    public static (int[] Shape, bool[] BroadcastA, bool[] BroadcastB) Coalesce(int[] y, int[] a, int[] b)
    {
        if (a.Length != y.Length || b.Length != y.Length)
            throw new ArgumentException($"Broadcast shapes must have the same rank: [{string.Join(",", y)}], [{string.Join(",", a)}], [{string.Join(",", b)}].");
        var shape = new List<int>();
        var ba = new List<bool>();
        var bb = new List<bool>();
        for (int i = 0; i < y.Length; i++)
        {
            if (a[i] != y[i] && a[i] != 1) throw new ArgumentException($"Operand extent {a[i]} cannot broadcast to {y[i]} on axis {i}.");
            if (b[i] != y[i] && b[i] != 1) throw new ArgumentException($"Operand extent {b[i]} cannot broadcast to {y[i]} on axis {i}.");
            if (y[i] == 1) continue;
            bool fa = a[i] == 1, fb = b[i] == 1;
            int last = shape.Count - 1;
            if (last >= 0 && ba[last] == fa && bb[last] == fb)
                shape[last] *= y[i];
            else
            {
                shape.Add(y[i]);
                ba.Add(fa);
                bb.Add(fb);
            }
        }
        if (shape.Count == 0)
        {
            shape.Add(1);
            ba.Add(false);
            bb.Add(false);
        }
        return (shape.ToArray(), ba.ToArray(), bb.ToArray());
    }

    /// <summary>Element strides of an operand over the coalesced shape (0 along broadcast axes).</summary>
    public static long[] Strides(int[] shape, bool[] broadcast)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = broadcast[i] ? 0 : s;
            if (!broadcast[i]) s *= shape[i];
        }
        return strides;
    }

    /// <summary>Offset of row `row` (an index over all axes but the last) given per-axis strides.</summary>
    public static long RowOffset(long row, int[] shape, long[] strides)
    {
        long off = 0;
        for (int i = shape.Length - 2; i >= 0; i--)
        {
            long idx = row % shape[i];
            row /= shape[i];
            off += idx * strides[i];
        }
        return off;
    }
}
