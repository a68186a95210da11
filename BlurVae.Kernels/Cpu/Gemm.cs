// Gemm.cs - multithreaded CPU GEMM (single and double precision) written in pure C#.
//
// Row-major C = alpha * op(A) * op(B) + beta * C, following the BLIS/GotoBLAS decomposition:
//
//   jc loop: NC columns of C at a time
//     pc loop: KC steps of the k dimension; pack op(B)[KC x NC] into NR-wide micro-panels (B block, L3-resident)
//       ic loop: MC rows at a time; pack alpha*op(A)[MC x KC] into MR-tall micro-panels (A block, L2-resident)
//         jr loop over NR micro-panels of B (one B micro-panel stays in L1 ...)
//           ir loop over MR micro-panels of A (... while the A micro-panels stream from L2)
//             micro-kernel: MR x NR tile of C held in vector registers, one FMA per (row, vector) per k step.
//
// Transposes are absorbed by the packing routines (no separate transpose copies), alpha is folded into the packed
// A block, and beta is applied by the micro-kernel on the first k block (beta == 0 never reads C). Tiles cut by C's
// bottom edge run a tile of just enough rows (4, 6 or 8: EdgeKernel) straight into C; tiles cut by its right edge
// are computed into a small scratch tile and merged, so the kernels only handle full-width tiles.
// m == 1 or n == 1 takes a streaming matrix-vector path instead (memory-bound; packing would only add traffic).
// Multithreading: the caller plus persistent helper threads claim blocks of C dynamically and share the packed B
// block (see "multithreading" below); problems under ~128^3 multiply-adds stay on the calling thread.
//
// Micro-kernels (one struct per instruction set; GemmCore is generic over it, so the JIT specialises the whole
// loop nest for each and the unused ones are never compiled):
//   AVX-512F: 12 x (2 x Vector512) tile: 12x32 floats / 12x16 doubles, 24 zmm accumulators.
//   AVX2+FMA: 6 x (2 x Vector256) tile:  6x16 floats / 6x8 doubles, 12 ymm accumulators.
//   otherwise: 4 x 4 scalar tile (portable, correct everywhere, not fast).
// Gemm.Isa picks one: the best the CPU reports, capped by $BLURVAE_GEMM_ISA (avx2 or scalar), so the AVX2 path
// can be measured and tested on an AVX-512 machine.
//
// Files: Gemm.cs (API, instruction-set dispatch, blocking constants, the single-thread loop nest and macro-kernel),
// Gemm.Threading.cs (the multithreaded job and the helper threads), Gemm.Packing.cs (panel packing), Gemm.Gemv.cs
// (matrix-vector path), Gemm.Avx512.cs / Gemm.Avx2.cs / Gemm.Scalar.cs (the micro-kernels), Gemm.Sourced.cs (the
// convolutions' GEMM: B's panels from a packer, A and C with per-image column segments, a row bias).


namespace BlurVae.Kernels.Cpu;

/// <summary>General matrix multiply for row-major matrices (BLAS xGEMM semantics, row-major layout).</summary>
public static partial class Gemm
{
    /// <summary>Environment variable that caps the micro-kernel's instruction set: avx2 or scalar (avx512 = no cap).</summary>
    public const string IsaVariable = "BLURVAE_GEMM_ISA";

    private static GemmIsa s_isa = IsaFromEnvironment(Environment.GetEnvironmentVariable(IsaVariable), out s_isaNote);
    private static readonly string? s_isaNote;

    /// <summary>The best instruction set this CPU (as the runtime reports it) has a micro-kernel for.</summary>
    public static GemmIsa BestSupported =>
        Avx512Tile<float>.IsSupported ? GemmIsa.Avx512 : Avx2Tile<float>.IsSupported ? GemmIsa.Avx2 : GemmIsa.Scalar;

    /// <summary>
    /// The micro-kernel every call uses: <see cref="BestSupported"/> unless $BLURVAE_GEMM_ISA caps it. Settable (tests,
    /// benchmarks) to any supported instruction set; not meant to change while GEMMs run on other threads.
    /// </summary>
    public static GemmIsa Isa
    {
        get => s_isa;
        set
        {
            if (value > BestSupported)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"this CPU's best GEMM micro-kernel is {BestSupported}.");
            s_isa = value;
        }
    }

    /// <summary>Why <see cref="Isa"/> is not <see cref="BestSupported"/> (the variable's cap, or its ignored value), or null.</summary>
    public static string? IsaNote => s_isaNote;

    /// <summary>Parses a $BLURVAE_GEMM_ISA value into the instruction set to use; an unknown value is ignored, with a note.</summary>
    internal static GemmIsa IsaFromEnvironment(string? value, out string? note)
    {
        GemmIsa best = BestSupported;
        note = null;
        if (string.IsNullOrWhiteSpace(value)) return best;
        GemmIsa? cap = value.Trim().ToLowerInvariant() switch
        {
            "avx512" => GemmIsa.Avx512,
            "avx2" => GemmIsa.Avx2,
            "scalar" => GemmIsa.Scalar,
            _ => null,
        };
        if (cap is null)
        {
            note = $"{IsaVariable}='{value}' ignored (use avx512, avx2 or scalar)";
            return best;
        }
        GemmIsa chosen = cap.Value < best ? cap.Value : best;
        if (chosen != best) note = $"capped by {IsaVariable}={value.Trim()}";
        return chosen;
    }

    /// <summary>
    /// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is m x k (A is stored k x m when
    /// <paramref name="transA"/>), op(B) is k x n (B is stored n x k when <paramref name="transB"/>).
    /// beta == 0 overwrites C without reading it. <paramref name="maxThreads"/> &lt;= 0 means Environment.ProcessorCount.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxThreads = 0)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        Dispatch(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads);
    }

    /// <summary>Double-precision counterpart of <see cref="Sgemm"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc, int maxThreads = 0)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        Dispatch(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads);
    }

    /// <summary>The micro-kernel of this machine's ISA (<see cref="Isa"/>), one generic instantiation per element type.</summary>
    private static void Dispatch<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, int maxThreads) where T : unmanaged, INumber<T>
    {
        switch (Isa)
        {
            case GemmIsa.Avx512: GemmCore<T, Avx512Tile<T>>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads); break;
            case GemmIsa.Avx2: GemmCore<T, Avx2Tile<T>>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads); break;
            default: GemmCore<T, ScalarTile<T>>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads); break;
        }
    }

    private static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb,
        int cLength, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m must be non-negative.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be non-negative.");

        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        CheckOperand(aRows, aCols, aLength, lda, "a", "lda");
        CheckOperand(bRows, bCols, bLength, ldb, "b", "ldb");
        CheckOperand(m, n, cLength, ldc, "c", "ldc");
    }

    private static void CheckOperand(int rows, int cols, int length, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least max(1, {cols}) for a {rows} x {cols} {name}.");
        if (rows > 0 && cols > 0)
        {
            long needed = (long)(rows - 1) * ld + cols;
            if (length < needed)
                throw new ArgumentException(
                    $"{name} has {length} elements but a {rows} x {cols} matrix with leading dimension {ld} needs at least {needed}.", name);
        }
    }
}

/// <summary>The micro-kernels' instruction sets, in increasing order of width.</summary>
public enum GemmIsa
{
    Scalar,
    Avx2,
    Avx512,
}

/// <summary>
/// A micro-kernel: C[MR x NR] (row stride ldc) op= packed A micro-panel (kc x MR) * packed B micro-panel (kc x NR),
/// where op is set by <see cref="GemmMode"/>. Static members, so GemmCore specialised on the struct inlines them.
/// </summary>
internal unsafe interface IGemmTile<T> where T : unmanaged, INumber<T>
{
    static abstract bool IsSupported { get; }
    static abstract int MR { get; }
    static abstract int NR { get; }
    /// <summary>Whether the packing may use 512-bit vectors (an AVX2 path run on an AVX-512 machine does not).</summary>
    static abstract bool UsesVector512 { get; }
    static abstract void Kernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode);
    /// <summary>As <see cref="Kernel"/> for the first <paramref name="rows"/> (&lt; MR) rows only: the panel at C's bottom
    /// edge, computed without the padding rows' multiply-adds and stored without a scratch tile.</summary>
    static abstract void EdgeKernel(int rows, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode);
}

/// <summary>How a micro-kernel stores its tile: overwrite C, add to C, or add to beta * C.</summary>
internal static class GemmMode
{
    public const int Overwrite = 0, Add = 1, Scale = 2;

    /// <summary>The mode of the first k block (later blocks always add).</summary>
    public static int First<T>(T beta) where T : INumber<T> => beta == T.Zero ? Overwrite : beta == T.One ? Add : Scale;
}

/// <summary>The blocked implementation, specialised by the JIT for each precision and micro-kernel.</summary>
internal static unsafe partial class GemmCore<T, TTile> where T : unmanaged, INumber<T> where TTile : struct, IGemmTile<T>
{
    /// <summary>Micro-tile rows and columns: the instruction set's register tile.</summary>
    internal static readonly int MR = TTile.MR, NR = TTile.NR;

    // Cache blocking (tuned on Zen 5: 48 KiB L1d, 1 MiB L2 per core, shared L3; the same byte sizes for both
    // precisions). The B micro-panel (KC x NR) is reused by every A micro-panel of the block, so it should stay in
    // L1: 256 x 32 floats = 32 KiB. The packed A block (MC x KC, 384 KiB) is re-read for every B micro-panel, so it
    // must stay in L2 next to the B panel passing through. NC only bounds the packed B block (KC x NC, 4 MiB, L3);
    // larger means A is re-packed less often. Measured alternatives (KC 128..384, MC 96..576, and the loop order
    // that keeps A in L1 with B in L2) were equal or up to 10% slower with two threads.

    /// <summary>Largest k block (depth of each packed panel).</summary>
    internal static readonly int KC = 256;

    /// <summary>
    /// The k blocks of a depth-k product: as few as KC allows, of equal depth (a multiple of 4, the 4×4 transposes of the packing; the last one shorter),
    /// rather than KC, KC, …, remainder: a short last block (k = 576 gave 256 + 256 + 64) pays a whole pass of C
    /// loads and stores and of packing for a few k steps. Depends on k only, so the sum order is the same for every
    /// thread count, and the sourced GEMM gets the same blocks as the plain one.
    /// </summary>
    internal static int KBlock(int k, out int blocks)
    {
        int depth = RoundUp((k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC), 4);
        blocks = (k + depth - 1) / depth;
        return depth;
    }

    /// <summary>Row block: the packed A block is MC x KC (multiple of MR).</summary>
    internal static readonly int MC = RoundUp(384 * 4 / Unsafe.SizeOf<T>(), MR);

    /// <summary>Column block: the packed B block is KC x NC (multiple of NR).</summary>
    internal static readonly int NC = RoundUp(4096 * 4 / Unsafe.SizeOf<T>(), NR);

    /// <summary>Problems below this many multiply-adds (~12 us on one Zen 5 core) run on the calling thread only:
    /// handing work to a helper costs a few microseconds and the helper starts with cold caches, so measured
    /// two-thread times only beat one thread from about 128^3 upwards.</summary>
    private const long SingleThreadWork = 128L * 128 * 128;

    /// <summary>Each extra thread must get at least this many multiply-adds to pay for itself.</summary>
    private const long MinWorkPerThread = 96L * 96 * 96;

    [ThreadStatic] private static T[]? t_bufA;
    [ThreadStatic] private static T[]? t_bufB;

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private struct Problem
    {
        public bool TransA, TransB;
        public int M, N, K;
        public T Alpha, Beta;
        public nint A, B, C;
        public nint Lda, Ldb, Ldc;
        // The convolutions' GEMM (Gemm.Sourced.cs): B's panels from a source instead of a stored B, A's and C's
        // columns in segments, a bias per row of C. Plain GEMMs leave them null / Dense / 0.
        public IPanelSource<T>? BSource;
        public int BRow0, BColumn0;
        public int ASegment, CSegment;
        public nint ASegmentStride, CSegmentStride;
        public nint Bias;
        // A's panels packed ahead (PackedA, Gemm.Sourced.cs), laid out as PackAll writes them; 0: Compute packs A itself.
        public nint PackedA;
    }

    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, int maxThreads)
    {
        if (m == 0 || n == 0) return;
        fixed (T* pc = c)
        {
            if (k == 0 || alpha == T.Zero)
            {
                // op(A)*op(B) contributes nothing: C = beta*C (beta == 0 writes zeros without reading C).
                ScaleC(pc, ldc, m, n, beta);
                return;
            }

            fixed (T* pa = a)
            fixed (T* pb = b)
            {
                var p = new Problem
                {
                    TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                    A = (nint)pa, B = (nint)pb, C = (nint)pc, Lda = lda, Ldb = ldb, Ldc = ldc,
                };

                int threads = maxThreads <= 0 ? Environment.ProcessorCount : maxThreads;
                long work = (long)m * n * k;
                if (work < SingleThreadWork) threads = 1;
                else threads = (int)Math.Max(1, Math.Min(threads, work / MinWorkPerThread));

                if (m == 1 || n == 1)
                {
                    Gemv(in p, threads);
                    return;
                }

                if (threads <= 1)
                {
                    Compute(in p, 0, m, 0, n);
                    return;
                }

                new GemmJob(in p, threads).Run();
            }
        }
    }

    private static void ScaleC(T* c, nint ldc, int m, int n, T beta)
    {
        if (beta == T.One) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    private static T[] GetBuffer(ref T[]? buffer, int length)
    {
        // Pinned (POH) so the packed panels never move; +64 bytes of slack for manual 64-byte alignment.
        int padded = length + 64 / Unsafe.SizeOf<T>();
        if (buffer == null || buffer.Length < padded) buffer = GC.AllocateUninitializedArray<T>(padded, pinned: true);
        return buffer;
    }

    private static T* Align64(T* p) => (T*)(((nint)p + 63) & ~(nint)63);

    /// <summary>Computes rows [m0, m1) x columns [n0, n1) of C on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(in Problem p, int m0, int m1, int n0, int n1)
    {
        int mr = MR, nr = NR, mcBlock = MC, ncBlock = NC;
        int K = p.K;
        int kcBlock = KBlock(K, out _);
        int kcMax = Math.Min(kcBlock, K);
        int mcMax = Math.Min(mcBlock, RoundUp(m1 - m0, mr));
        int ncMax = Math.Min(ncBlock, RoundUp(n1 - n0, nr));
        T[] bufA = GetBuffer(ref t_bufA, mcMax * kcMax);
        T[] bufB = GetBuffer(ref t_bufB, ncMax * kcMax);
        T* tile = stackalloc T[mr * nr];
        int firstMode = GemmMode.First(p.Beta);

        fixed (T* rawA = bufA)
        fixed (T* rawB = bufB)
        {
            T* packA = Align64(rawA), packB = Align64(rawB);
            for (int jc = n0; jc < n1; jc += ncBlock)
            {
                int nc = Math.Min(ncBlock, n1 - jc);
                for (int pc = 0; pc < K; pc += kcBlock)
                {
                    int kc = Math.Min(kcBlock, K - pc);
                    PackB(in p, pc, jc, kc, nc, packB);
                    int mode = pc == 0 ? firstMode : GemmMode.Add;
                    for (int ic = m0; ic < m1; ic += mcBlock)
                    {
                        int mc = Math.Min(mcBlock, m1 - ic);
                        T* blockA = packA;
                        if (p.PackedA != 0) blockA = (T*)p.PackedA + PackedOffset(p.M, pc, ic, kc);
                        else PackA(in p, ic, pc, mc, kc, packA);
                        Block(in p, ic, mc, jc, nc, pc, kc, blockA, packB, mode, tile);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(int mc, int nc, int kc, T* packA, T* packB, T* c, nint ldc, T beta, int mode, T* tile)
    {
        int mr = MR, nr = NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nrr = Math.Min(nr, nc - jr);
            T* bp = packB + (nint)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mrr = Math.Min(mr, mc - ir);
                T* ap = packA + (nint)ir * kc;
                T* cp = c + ir * ldc + jr;
                if (nrr == nr)
                {
                    Tile(mrr, kc, ap, bp, cp, ldc, beta, mode);
                }
                else
                {
                    Tile(mrr, kc, ap, bp, tile, nr, T.Zero, GemmMode.Overwrite);
                    MergeTile(tile, cp, ldc, mrr, nrr, beta, mode);
                }
            }
        }
    }

    /// <summary>The micro-kernel on the first <paramref name="rows"/> (≤ MR) rows of a full-width tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(int rows, int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        if (rows == MR) TTile.Kernel(kc, a, b, c, ldc, beta, mode);
        else TTile.EdgeKernel(rows, kc, a, b, c, ldc, beta, mode);
    }

    /// <summary>Adds an edge tile computed into scratch (row stride NR) into C; then adds bias[i] to row i where
    /// <paramref name="bias"/> is not null (after the sum, so the rounding is that of adding it to the finished C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTile(T* tile, T* c, nint ldc, int rows, int cols, T beta, int mode, T* bias = null)
    {
        int nr = NR;
        for (int i = 0; i < rows; i++)
        {
            T* t = tile + i * nr;
            T* d = c + i * ldc;
            T bi = bias == null ? T.Zero : bias[i];
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var vb = Vector256.Create(beta);
                var vbias = Vector256.Create(bi);
                for (; j + Vector256<T>.Count <= cols; j += Vector256<T>.Count)
                {
                    var v = Vector256.Load(t + j);
                    if (mode == GemmMode.Add) v += Vector256.Load(d + j);
                    else if (mode == GemmMode.Scale) v += vb * Vector256.Load(d + j);
                    if (bias != null) v += vbias;
                    v.Store(d + j);
                }
            }
            for (; j < cols; j++)
            {
                T v = t[j];
                if (mode == GemmMode.Add) v += d[j];
                else if (mode == GemmMode.Scale) v += beta * d[j];
                if (bias != null) v += bi;
                d[j] = v;
            }
        }
    }
}
