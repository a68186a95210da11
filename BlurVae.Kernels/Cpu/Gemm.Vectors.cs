// Gemm.Vectors.cs - what the SIMD micro-kernels (Gemm.Avx2.cs, Gemm.Avx512.cs) are made of, written once for both
// vector widths: the vector operations of one width, blocks of four or six tile rows, the edge tiles (see Gemm.cs).


namespace BlurVae.Kernels.Cpu;

/// <summary>
/// The vector operations of one width (<see cref="Vector128Ops{T}"/>, <see cref="Vector256Ops{T}"/>,
/// <see cref="Vector512Ops{T}"/>), as static members of a struct: code generic over it is specialised by the JIT for
/// each width and every call inlines to the instruction, exactly as if written against Vector256 or Vector512 itself.
/// </summary>
internal unsafe interface IVectorOps<TV, T> where TV : struct where T : unmanaged, INumber<T>
{
    static abstract int Count { get; }
    static abstract TV Load(T* p);
    static abstract void Store(TV v, T* p);
    static abstract TV Broadcast(T x);
    static abstract TV Add(TV x, TV y);
    static abstract TV Multiply(TV x, TV y);
    /// <summary>x·y + acc, one fused instruction for float and double (a multiply and an add otherwise).</summary>
    static abstract TV MulAdd(TV x, TV y, TV acc);
}

internal readonly unsafe struct Vector128Ops<T> : IVectorOps<Vector128<T>, T> where T : unmanaged, INumber<T>
{
    public static int Count => Vector128<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Load(T* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Broadcast(T x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Add(Vector128<T> x, Vector128<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Multiply(Vector128<T> x, Vector128<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MulAdd(Vector128<T> x, Vector128<T> y, Vector128<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector128.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector128.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}

internal readonly unsafe struct Vector256Ops<T> : IVectorOps<Vector256<T>, T> where T : unmanaged, INumber<T>
{
    public static int Count => Vector256<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(T* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Broadcast(T x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> x, Vector256<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Multiply(Vector256<T> x, Vector256<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MulAdd(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}

internal readonly unsafe struct Vector512Ops<T> : IVectorOps<Vector512<T>, T> where T : unmanaged, INumber<T>
{
    public static int Count => Vector512<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(T* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Broadcast(T x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> x, Vector512<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> x, Vector512<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MulAdd(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }
}

/// <summary>A block of rows of a two-vector-wide micro-tile, held in registers (<see cref="RowBlock{T, TV, TOps, TRows}"/>
/// or <see cref="NoRows{T, TV}"/>).</summary>
internal unsafe interface IRowBlock<T, TV> where T : unmanaged where TV : struct
{
    static abstract int Rows { get; }
    void Step(T* a, int first, TV b0, TV b1);
    void Store(T* c, nint ldc, T beta, int mode, int rows);
}

/// <summary>No rows: the second block of an edge tile that needs only one.</summary>
internal unsafe struct NoRows<T, TV> : IRowBlock<T, TV> where T : unmanaged where TV : struct
{
    public static int Rows => 0;
    public void Step(T* a, int first, TV b0, TV b1) { }
    public void Store(T* c, nint ldc, T beta, int mode, int rows) { }
}

/// <summary>A row count as a type, so that code generic over it is compiled for that count (<see cref="Four"/>, <see cref="Six"/>).</summary>
internal interface IRowCount
{
    static abstract int Value { get; }
}

internal readonly struct Four : IRowCount
{
    public static int Value => 4;
}

internal readonly struct Six : IRowCount
{
    public static int Value => 6;
}

/// <summary>
/// The micro-tiles of the panels at C's bottom edge, which have fewer rows than MR (the packed A panel is still MR
/// wide per k step, zero-padded): one or two row blocks of just enough rows, stored straight to C. Each element's
/// sum is the same chain of FMAs as in the full tile, so the results are the same bits; a 64-row C is 5 x 12 + 4 rows,
/// and computing its last panel as 4 rows instead of 12 saves 11 % of the multiply-adds.
/// </summary>
internal static unsafe class EdgeTile<T, TV, TOps> where T : unmanaged, INumber<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
{
    /// <summary>Rows [0, rows) of a tile (rows ≤ 12) from A panels of <paramref name="mr"/> rows: 4, 6, 4 + 4 or 6 + 6 rows.</summary>
    public static void Rows(int rows, int mr, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        if (rows <= 4) Run<RowBlock<T, TV, TOps, Four>, NoRows<T, TV>>(rows, mr, kc, a, b, c, ldc, beta, mode);
        else if (rows <= 6) Run<RowBlock<T, TV, TOps, Six>, NoRows<T, TV>>(rows, mr, kc, a, b, c, ldc, beta, mode);
        else if (rows <= 8) Run<RowBlock<T, TV, TOps, Four>, RowBlock<T, TV, TOps, Four>>(rows, mr, kc, a, b, c, ldc, beta, mode);
        else Run<RowBlock<T, TV, TOps, Six>, RowBlock<T, TV, TOps, Six>>(rows, mr, kc, a, b, c, ldc, beta, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TTop, TBottom>(int rows, int mr, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
        where TTop : struct, IRowBlock<T, TV> where TBottom : struct, IRowBlock<T, TV>
    {
        nint w = TOps.Count;
        TTop top = default;
        TBottom bottom = default;
        for (int q = 0; q < kc; q++)
        {
            var b0 = TOps.Load(b);
            var b1 = TOps.Load(b + w);
            top.Step(a, 0, b0, b1);
            if (TBottom.Rows > 0) bottom.Step(a, TTop.Rows, b0, b1);
            a += mr;
            b += 2 * w;
        }
        top.Store(c, ldc, beta, mode, Math.Min(rows, TTop.Rows));
        if (rows > TTop.Rows) bottom.Store(c + TTop.Rows * ldc, ldc, beta, mode, rows - TTop.Rows);
    }
}

/// <summary>
/// Four or six rows (<typeparamref name="TRows"/>) of a two-vector-wide micro-tile: 8 or 12 accumulators. The AVX2
/// tile is one six-row block (6 x 2 ymm), the AVX-512 tile two (12 x 2 zmm, the second block on A's rows 6..11); the
/// edge tiles use four-row blocks too (8 accumulators still cover the FMA latency x pipes product). A local of this
/// struct is promoted by the JIT to registers (its methods inline, so nothing takes its address; a four-row block
/// never touches rows 4 and 5), which is what the hand-written kernels held.
/// </summary>
internal unsafe struct RowBlock<T, TV, TOps, TRows> : IRowBlock<T, TV>
    where T : unmanaged, INumber<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TRows : struct, IRowCount
{
    public static int Rows => TRows.Value;

    private TV _c00, _c01, _c10, _c11, _c20, _c21, _c30, _c31, _c40, _c41, _c50, _c51;

    /// <summary>One k step: row i += a[first + i] · (b0, b1) for i &lt; Rows. The constant offset (rather than a moved
    /// pointer) lets every broadcast address a with a displacement, as the hand-written kernels did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(T* a, int first, TV b0, TV b1)
    {
        TV x;
        x = TOps.Broadcast(a[first]); _c00 = TOps.MulAdd(x, b0, _c00); _c01 = TOps.MulAdd(x, b1, _c01);
        x = TOps.Broadcast(a[first + 1]); _c10 = TOps.MulAdd(x, b0, _c10); _c11 = TOps.MulAdd(x, b1, _c11);
        x = TOps.Broadcast(a[first + 2]); _c20 = TOps.MulAdd(x, b0, _c20); _c21 = TOps.MulAdd(x, b1, _c21);
        x = TOps.Broadcast(a[first + 3]); _c30 = TOps.MulAdd(x, b0, _c30); _c31 = TOps.MulAdd(x, b1, _c31);
        if (TRows.Value == 4) return;
        x = TOps.Broadcast(a[first + 4]); _c40 = TOps.MulAdd(x, b0, _c40); _c41 = TOps.MulAdd(x, b1, _c41);
        x = TOps.Broadcast(a[first + 5]); _c50 = TOps.MulAdd(x, b0, _c50); _c51 = TOps.MulAdd(x, b1, _c51);
    }

    /// <summary>Writes the block's rows to C (row stride ldc) as <paramref name="mode"/> says (<see cref="GemmMode"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(T* c, nint ldc, T beta, int mode) => Store(c, ldc, beta, mode, TRows.Value);

    /// <summary>Writes the block's first <paramref name="rows"/> rows to C: an edge tile stores only the rows C has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(T* c, nint ldc, T beta, int mode, int rows)
    {
        TV vb = TOps.Broadcast(beta);
        StoreRow(c, _c00, _c01, vb, mode); if (rows == 1) return; c += ldc;
        StoreRow(c, _c10, _c11, vb, mode); if (rows == 2) return; c += ldc;
        StoreRow(c, _c20, _c21, vb, mode); if (rows == 3) return; c += ldc;
        StoreRow(c, _c30, _c31, vb, mode); if (TRows.Value == 4 || rows == 4) return; c += ldc;
        StoreRow(c, _c40, _c41, vb, mode); if (rows == 5) return; c += ldc;
        StoreRow(c, _c50, _c51, vb, mode);
    }

    /// <summary>C[0 .. 2·Count) = (v0, v1), + C, or + beta·C, as <paramref name="mode"/> says.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, TV v0, TV v1, TV vbeta, int mode)
    {
        T* c1 = c + TOps.Count;
        if (mode == GemmMode.Overwrite)
        {
            TOps.Store(v0, c);
            TOps.Store(v1, c1);
        }
        else if (mode == GemmMode.Add)
        {
            TOps.Store(TOps.Add(TOps.Load(c), v0), c);
            TOps.Store(TOps.Add(TOps.Load(c1), v1), c1);
        }
        else
        {
            TOps.Store(TOps.MulAdd(TOps.Load(c), vbeta, v0), c);
            TOps.Store(TOps.MulAdd(TOps.Load(c1), vbeta, v1), c1);
        }
    }
}
