// DirectConv.Vectors.cs - what the stride-1 direct convolution's tiles are made of: tile sizes as compile-time
// constants, the fused multiply-add, and the two ways a tile reads an input row (inside it, or clipped at its ends).

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// A small count known to the JIT: a tile's loops over its accumulators are written out for up to four, each guarded by
/// <c>if (TCount.Value &gt; k)</c>; a generic method instantiated over one of these structs keeps only the live ones, so
/// the accumulators are separate locals (registers) rather than an array in memory.
/// </summary>
internal interface ITileCount
{
    static abstract int Value { get; }
}

internal readonly struct TileCount1 : ITileCount { public static int Value => 1; }
internal readonly struct TileCount2 : ITileCount { public static int Value => 2; }
internal readonly struct TileCount3 : ITileCount { public static int Value => 3; }
internal readonly struct TileCount4 : ITileCount { public static int Value => 4; }

/// <summary>What a forward tile's slots are: output channels sharing each input load (<see cref="ChannelSlots"/>) or
/// consecutive output rows of one channel sharing each weight (<see cref="RowSlots"/>).</summary>
internal interface ISlotKind
{
    static abstract bool Rows { get; }
}

internal readonly struct ChannelSlots : ISlotKind { public static bool Rows => false; }
internal readonly struct RowSlots : ISlotKind { public static bool Rows => true; }

/// <summary>How a tile reads one vector of an input row: <see cref="InteriorLoad{T}"/> where every lane is inside the
/// row (no test at all), <see cref="ClippedLoad{T}"/> at the row's ends, where lanes outside it read zero.</summary>
internal unsafe interface IRowLoad<T> where T : unmanaged
{
    /// <summary>row[col … col + Vector.Count), lanes outside [0, width) as zero (or left unchecked, for the interior).</summary>
    static abstract Vector<T> Load(T* row, int col, int width);
}

internal readonly unsafe struct InteriorLoad<T> : IRowLoad<T> where T : unmanaged, INumber<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Load(T* row, int col, int width) => Vector.Load(row + col);
}

internal readonly unsafe struct ClippedLoad<T> : IRowLoad<T> where T : unmanaged, INumber<T>
{
    /// <summary>
    /// A plain load where the vector lies inside the row (most of an edge tile's loads), else a masked load, which reads
    /// no memory in the masked lanes: the zero padding of the convolution without a padded copy of the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Load(T* row, int col, int width)
    {
        if (col >= 0 && col + Vector<T>.Count <= width) return Vector.Load(row + col);
        if (Avx.IsSupported && Vector<T>.Count * sizeof(T) == 32)
        {
            if (typeof(T) == typeof(float))
            {
                var lane = Vector256.Create(col) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var inside = Vector256.GreaterThanOrEqual(lane, Vector256<int>.Zero) & Vector256.LessThan(lane, Vector256.Create(width));
                return Avx.MaskLoad((float*)(row + col), inside.AsSingle()).AsVector().As<float, T>();
            }
            if (typeof(T) == typeof(double))
            {
                var lane = Vector256.Create((long)col) + Vector256.Create(0L, 1, 2, 3);
                var inside = Vector256.GreaterThanOrEqual(lane, Vector256<long>.Zero) & Vector256.LessThan(lane, Vector256.Create((long)width));
                return Avx.MaskLoad((double*)(row + col), inside.AsDouble()).AsVector().As<double, T>();
            }
        }
        return LoadLanes(row, col, width);
    }

    // Without AVX (or at another vector width): lane by lane.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector<T> LoadLanes(T* row, int col, int width)
    {
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        for (int l = 0; l < lanes.Length; l++) lanes[l] = (uint)(col + l) < (uint)width ? row[col + l] : T.Zero;
        return new Vector<T>(lanes);
    }
}

internal static class TileVector<T> where T : unmanaged, INumber<T>
{
    /// <summary>x·y + acc, one fused instruction for float and double (as the GEMM's micro-kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> MulAdd(Vector<T> x, Vector<T> y, Vector<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
        return x * y + acc;
    }
}
