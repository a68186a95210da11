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
// A block, and beta is applied by the micro-kernel on the first k block (beta == 0 never reads C). Tiles that are
// cut by the edge of C are computed into a small scratch tile and merged, so the kernels only handle full tiles.
// m == 1 or n == 1 takes a streaming matrix-vector path instead (memory-bound; packing would only add traffic).
// Multithreading: the caller plus persistent helper threads claim blocks of C dynamically and share the packed B
// block (see "multithreading" below); problems under ~128^3 multiply-adds stay on the calling thread.
//
// Kernel selection (resolved by the JIT, so the unused paths cost nothing):
//   AVX-512F: 12 x (2 x Vector512) tile: 12x32 floats / 12x16 doubles, 24 zmm accumulators.
//   AVX2+FMA: 6 x (2 x Vector256) tile:  6x16 floats / 6x8 doubles, 12 ymm accumulators.
//   otherwise: 4 x 4 scalar tile (portable, correct everywhere, not fast).

using System;
using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace BlurVae.Kernels.Cpu;

/// <summary>General matrix multiply for row-major matrices (BLAS xGEMM semantics, row-major layout).</summary>
public static class Gemm
{
    /// <summary>
    /// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is m x k (A is stored k x m when
    /// <paramref name="transA"/>), op(B) is k x n (B is stored n x k when <paramref name="transB"/>).
    /// beta == 0 overwrites C without reading it. <paramref name="maxThreads"/> &lt;= 0 means Environment.ProcessorCount.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxThreads = 0)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        GemmCore<float>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads);
    }

    /// <summary>Double-precision counterpart of <see cref="Sgemm"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc, int maxThreads = 0)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        GemmCore<double>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads);
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

/// <summary>The blocked implementation, specialised by the JIT for float and double.</summary>
internal static unsafe class GemmCore<T> where T : unmanaged, INumber<T>
{
    // ---- kernel selection: JIT-time constants ----
    private static bool Use512 => Avx512F.IsSupported;
    private static bool Use256 => !Avx512F.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>Micro-tile rows. 12 rows x 2 vectors = 24 accumulators + 2 B vectors fits the 32 zmm registers with
    /// room for the broadcast; 6 x 2 = 12 ymm accumulators is the classic AVX2 shape for 16 registers.</summary>
    internal static readonly int MR = Use512 ? 12 : Use256 ? 6 : 4;

    /// <summary>Micro-tile columns: two vectors wide (vectorised along the contiguous row of C).</summary>
    internal static readonly int NR = Use512 ? 2 * Vector512<T>.Count : Use256 ? 2 * Vector256<T>.Count : 4;

    // Cache blocking (tuned on Zen 5: 48 KiB L1d, 1 MiB L2 per core, shared L3; the same byte sizes for both
    // precisions). The B micro-panel (KC x NR) is reused by every A micro-panel of the block, so it should stay in
    // L1: 256 x 32 floats = 32 KiB. The packed A block (MC x KC, 384 KiB) is re-read for every B micro-panel, so it
    // must stay in L2 next to the B panel passing through. NC only bounds the packed B block (KC x NC, 4 MiB, L3);
    // larger means A is re-packed less often. Measured alternatives (KC 128..384, MC 96..576, and the loop order
    // that keeps A in L1 with B in L2) were equal or up to 10% slower with two threads.

    /// <summary>k block (depth of each packed panel).</summary>
    internal static readonly int KC = 256;

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

    private const int ModeOverwrite = 0, ModeAdd = 1, ModeScale = 2;

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

    // ------------------------------------------------------------------ multithreading
    //
    // The calling thread (the leader) always works and never waits for helpers to start: helpers join whenever they
    // get a core (see GemmHelpers) and work is claimed dynamically, so a late or busy helper costs nothing but its
    // share. The problem is cut into
    //
    //   phases: one (jc, pc) block each, i.e. a KC x NC block of op(B) packed into a buffer shared by all threads
    //           (two buffers alternate, so the next phase can start while the last units of this one finish);
    //   units:  MCu x NCu blocks of C inside a phase. The thread that claims a unit packs that slice of A itself;
    //           the unit's slice of the B block (NCu columns) is packed by the first thread that needs it, so
    //           B packing is spread over the threads too.
    //
    // Units are sized for about four per thread and phase (load balance on a machine that is shared with other
    // work) while keeping each operand packed about once. A unit of phase t+1 waits for the same unit of phase t
    // (both accumulate into the same block of C), and phase t+1 opens only once phase t-1 is complete (its B buffer
    // is reused), so at most two consecutive phases are ever in flight.

    private sealed class GemmJob : IThreadPoolWorkItem
    {
        private readonly Problem _p;
        private readonly int _threads, _numPc, _phases, _totalUnits, _maxUnits, _maxSlices;
        private readonly int[] _unitDone;   // [jc parity][unit]: last phase that completed the unit
        private readonly int[] _sliceState; // [buffer][slice]: 2t+1 = being packed for phase t, 2t+2 = ready
        private readonly int[] _phaseDone;  // per phase: completed units
        private readonly nint[] _bufB = new nint[2];
        private long _state;                // (open phase << 32) | tickets handed out in it
        private int _openedPhase;           // highest phase opened (or being opened)
        private int _totalDone;

        public GemmJob(in Problem p, int threads)
        {
            _p = p;
            _threads = threads;
            _numPc = (p.K + KC - 1) / KC;
            int numJc = (p.N + NC - 1) / NC;
            _phases = numJc * _numPc;
            for (int jc = 0; jc < numJc; jc++)
            {
                Geometry(jc * NC, out _, out _, out int unitsN, out int units);
                _maxUnits = Math.Max(_maxUnits, units);
                _maxSlices = Math.Max(_maxSlices, unitsN);
                _totalUnits += units * _numPc;
            }

            _unitDone = new int[2 * _maxUnits];
            Array.Fill(_unitDone, -1);
            _sliceState = new int[2 * _maxSlices];
            _phaseDone = new int[_phases];
        }

        /// <summary>Splits the phase's C block (all m rows x nc columns from jc) into units.</summary>
        private void Geometry(int jc, out int mcu, out int ncu, out int unitsN, out int units)
        {
            int m = _p.M, nc = Math.Min(NC, _p.N - jc);
            int target = 4 * _threads;
            int tilesM = (m + MR - 1) / MR, tilesN = (nc + NR - 1) / NR;
            // Columns: a unit's slice of the B block (KC x NCu) should stay in the core's L2 (<= 512 KiB) ...
            int maxPanels = Math.Max(1, 512 * 1024 / (KC * NR * Unsafe.SizeOf<T>()));
            unitsN = (tilesN + maxPanels - 1) / maxPanels;
            // ... rows: enough units for load balance (at least 4 micro-tiles each, at most MC rows) ...
            int unitsM = Math.Max(Math.Min((target + unitsN - 1) / unitsN, (tilesM + 3) / 4), (m + MC - 1) / MC);
            unitsM = Math.Max(1, unitsM);
            mcu = MR * ((tilesM + unitsM - 1) / unitsM);
            unitsM = (m + mcu - 1) / mcu;
            // ... and more column splits when there are too few row blocks (at least 2 micro-panels per unit).
            unitsN = Math.Clamp(Math.Max(unitsN, (target + unitsM - 1) / unitsM), 1, Math.Max(1, tilesN / 2));
            ncu = NR * ((tilesN + unitsN - 1) / unitsN);
            unitsN = (nc + ncu - 1) / ncu;
            units = unitsM * unitsN;
        }

        public void Run()
        {
            int kcMax = Math.Min(KC, _p.K);
            int ncMax = Math.Min(NC, RoundUp(_p.N, NR));
            int half = RoundUp(ncMax * kcMax, 64);
            T[] buf = GetBuffer(ref t_bufB, 2 * half);
            fixed (T* raw = buf)
            {
                T* b0 = Align64(raw);
                _bufB[0] = (nint)b0;
                _bufB[1] = (nint)(b0 + half);
                Volatile.Write(ref _state, 0); // phase 0 is open
                GemmHelpers.Start(this, Math.Min(_threads, _totalUnits) - 1);
                Participate(leader: true);
            }
        }

        void IThreadPoolWorkItem.Execute() => Participate(leader: false);

        private void Participate(bool leader)
        {
            int mcMax = Math.Min(MC, RoundUp(_p.M, MR));
            T[] bufA = GetBuffer(ref t_bufA, mcMax * Math.Min(KC, _p.K));
            T* tile = stackalloc T[MR * NR];
            int cachedPhase = -1, cachedRow = -1;
            fixed (T* rawA = bufA)
            {
                T* packA = Align64(rawA);
                while (true)
                {
                    long s = Interlocked.Increment(ref _state);
                    int phase = (int)(s >> 32), ticket = (int)(s & 0xFFFFFFFF) - 1;
                    if (phase >= _phases) return; // finished: a late helper leaves without touching the matrices

                    int jcIndex = phase / _numPc, jc = jcIndex * NC;
                    int pcIndex = phase % _numPc, pc = pcIndex * KC, kc = Math.Min(KC, _p.K - pc);
                    Geometry(jc, out int mcu, out int ncu, out int unitsN, out int units);
                    if (ticket < units)
                    {
                        int slice = ticket % unitsN;
                        int ic = ticket / unitsN * mcu, j0 = slice * ncu;
                        int mc = Math.Min(mcu, _p.M - ic), nc = Math.Min(ncu, Math.Min(NC, _p.N - jc) - j0);
                        T* packB = (T*)_bufB[phase & 1] + (nint)j0 * kc;

                        // This unit's slice of B: pack it, or wait for the thread that is packing it.
                        ref int sliceState = ref _sliceState[(phase & 1) * _maxSlices + slice];
                        int seen = Volatile.Read(ref sliceState);
                        if (seen < 2 * phase + 1 && Interlocked.CompareExchange(ref sliceState, 2 * phase + 1, seen) == seen)
                        {
                            PackB(_p.TransB, (T*)_p.B, _p.Ldb, pc, jc + j0, kc, nc, packB);
                            Volatile.Write(ref sliceState, 2 * phase + 2);
                        }
                        else
                        {
                            var spin = new SpinWait();
                            while (Volatile.Read(ref sliceState) != 2 * phase + 2) spin.SpinOnce(-1);
                        }

                        if (cachedPhase != phase || cachedRow != ic)
                        {
                            PackA(_p.TransA, (T*)_p.A, _p.Lda, ic, pc, mc, kc, _p.Alpha, packA);
                            cachedPhase = phase;
                            cachedRow = ic;
                        }

                        // The same block of C from the previous k block must be finished.
                        ref int done = ref _unitDone[(jcIndex & 1) * _maxUnits + ticket];
                        if (pcIndex > 0)
                        {
                            var spin = new SpinWait();
                            while (Volatile.Read(ref done) != phase - 1) spin.SpinOnce(-1);
                        }

                        int mode = pcIndex == 0 ? (_p.Beta == T.Zero ? ModeOverwrite : _p.Beta == T.One ? ModeAdd : ModeScale) : ModeAdd;
                        MacroKernel(mc, nc, kc, packA, packB, (T*)_p.C + ic * _p.Ldc + jc + j0, _p.Ldc, _p.Beta, mode, tile);
                        Volatile.Write(ref done, phase);
                        Interlocked.Increment(ref _phaseDone[phase]);
                        Interlocked.Increment(ref _totalDone);
                        continue;
                    }

                    // No tickets left in this phase. The first thread here opens the next phase, once phase - 1 is
                    // complete (the next phase re-uses its B buffer).
                    if (phase + 1 < _phases)
                    {
                        if (Interlocked.CompareExchange(ref _openedPhase, phase + 1, phase) == phase)
                        {
                            if (phase >= 1)
                            {
                                Geometry((phase - 1) / _numPc * NC, out _, out _, out _, out int previousUnits);
                                var spin = new SpinWait();
                                while (Volatile.Read(ref _phaseDone[phase - 1]) != previousUnits) spin.SpinOnce(-1);
                            }

                            Interlocked.Exchange(ref _state, (long)(phase + 1) << 32);
                        }
                        else
                        {
                            var spin = new SpinWait();
                            while ((int)(Volatile.Read(ref _state) >> 32) == phase) spin.SpinOnce(-1);
                        }

                        continue;
                    }

                    if (!leader) return;
                    // The leader returns only when every unit is done: the matrices are pinned by its frame.
                    var wait = new SpinWait();
                    while (Volatile.Read(ref _totalDone) != _totalUnits) wait.SpinOnce(-1);
                    Interlocked.Exchange(ref _state, (long)_phases << 32);
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------------ matrix-vector (m == 1 or n == 1)
    //
    // A GEMM with a single row or column of C is a matrix-vector product: it touches every element of the matrix
    // once, so it is bound by memory bandwidth and packing would only add traffic. Two streaming forms cover all
    // four transpose cases: "dot" (the matrix rows are contiguous along k: one dot product per output) and "axpy"
    // (the matrix rows run along the output: accumulate x[p] * row p into a contiguous accumulator).

    /// <summary>Output chunks claimed dynamically by the caller and by pool helpers (see the GEMM job above).</summary>
    private sealed class GemvJob : IThreadPoolWorkItem
    {
        private readonly Problem _p;
        private readonly int _chunks;
        private int _next, _done;

        public GemvJob(in Problem p, int chunks)
        {
            _p = p;
            _chunks = chunks;
        }

        public void Run(int helpers)
        {
            GemmHelpers.Start(this, helpers);
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != _chunks) spin.SpinOnce(-1);
        }

        void IThreadPoolWorkItem.Execute() => Work();

        private void Work()
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref _next) - 1) < _chunks)
            {
                GemvPart(in _p, chunk, _chunks);
                Interlocked.Increment(ref _done);
            }
        }
    }

    private static void Gemv(in Problem p, int threads)
    {
        int outputs = p.N == 1 ? p.M : p.N;
        // About four chunks per thread, but at least 64 outputs each.
        int chunks = Math.Max(1, Math.Min(4 * threads, outputs / 64));
        if (threads <= 1 || chunks <= 1)
        {
            GemvPart(in p, 0, 1);
            return;
        }

        new GemvJob(in p, chunks).Run(Math.Min(threads, chunks) - 1);
    }

    /// <summary>Computes the outputs [part*outputs/parts, (part+1)*outputs/parts) of a matrix-vector product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvPart(in Problem p, int part, int parts)
    {
        T* A = (T*)p.A, B = (T*)p.B, C = (T*)p.C;
        int k = p.K;
        T* mat;     // the matrix operand
        nint ldm;
        T* x;       // the vector operand, element q at x[q * incx]
        nint incx;
        nint incy;  // output stride in C
        bool dotForm;
        int outputs;
        if (p.N == 1)
        {
            // c[i] = sum_q op(A)[i, q] * op(B)[q, 0]
            mat = A; ldm = p.Lda; dotForm = !p.TransA; outputs = p.M;
            x = B; incx = p.TransB ? 1 : p.Ldb; incy = p.Ldc;
        }
        else
        {
            // c[j] = sum_q op(A)[0, q] * op(B)[q, j]
            mat = B; ldm = p.Ldb; dotForm = p.TransB; outputs = p.N;
            x = A; incx = p.TransA ? p.Lda : 1; incy = 1;
        }

        int o0 = (int)((long)outputs * part / parts), o1 = (int)((long)outputs * (part + 1) / parts);
        int count = o1 - o0;
        if (count <= 0) return;

        // Scratch: a contiguous copy of x when it is strided, and the accumulator for the axpy form.
        int scratch = (incx != 1 ? k : 0) + (dotForm ? 0 : count);
        T[]? rented = scratch > 0 ? ArrayPool<T>.Shared.Rent(scratch) : null;
        try
        {
            fixed (T* tmp = rented)
            {
                if (incx != 1)
                {
                    for (int q = 0; q < k; q++) tmp[q] = x[q * incx];
                    x = tmp;
                }

                T* y = C + o0 * incy;
                if (dotForm)
                {
                    GemvDot(mat + o0 * ldm, ldm, count, k, x, y, incy, p.Alpha, p.Beta);
                }
                else
                {
                    T* acc = tmp + (incx != 1 ? k : 0);
                    GemvAxpy(mat + o0, ldm, count, k, x, acc);
                    for (int j = 0; j < count; j++)
                    {
                        T v = p.Alpha * acc[j];
                        y[j * incy] = p.Beta == T.Zero ? v : v + p.Beta * y[j * incy];
                    }
                }
            }
        }
        finally
        {
            if (rented != null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>y[i*incy] = alpha * dot(mat row i, x) + beta * y[i*incy] for i &lt; rows; four rows share each x load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvDot(T* mat, nint ldm, int rows, int k, T* x, T* y, nint incy, T alpha, T beta)
    {
        int w = Vector<T>.Count;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            T* r0 = mat + i * ldm, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm;
            Vector<T> s0 = Vector<T>.Zero, s1 = Vector<T>.Zero, s2 = Vector<T>.Zero, s3 = Vector<T>.Zero;
            int q = 0;
            for (; q + w <= k; q += w)
            {
                var xv = Vector.Load(x + q);
                s0 += Vector.Load(r0 + q) * xv;
                s1 += Vector.Load(r1 + q) * xv;
                s2 += Vector.Load(r2 + q) * xv;
                s3 += Vector.Load(r3 + q) * xv;
            }

            T d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
            for (; q < k; q++)
            {
                T xq = x[q];
                d0 += r0[q] * xq; d1 += r1[q] * xq; d2 += r2[q] * xq; d3 += r3[q] * xq;
            }

            StoreGemv(y + i * incy, d0, alpha, beta);
            StoreGemv(y + (i + 1) * incy, d1, alpha, beta);
            StoreGemv(y + (i + 2) * incy, d2, alpha, beta);
            StoreGemv(y + (i + 3) * incy, d3, alpha, beta);
        }

        for (; i < rows; i++)
        {
            T* r = mat + i * ldm;
            Vector<T> s = Vector<T>.Zero;
            int q = 0;
            for (; q + w <= k; q += w) s += Vector.Load(r + q) * Vector.Load(x + q);
            T d = Vector.Sum(s);
            for (; q < k; q++) d += r[q] * x[q];
            StoreGemv(y + i * incy, d, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGemv(T* y, T dot, T alpha, T beta) => *y = beta == T.Zero ? alpha * dot : alpha * dot + beta * *y;

    /// <summary>acc[j] = sum_q x[q] * mat[q*ldm + j] for j &lt; cols, streaming four matrix rows per pass over acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvAxpy(T* mat, nint ldm, int cols, int k, T* x, T* acc)
    {
        int w = Vector<T>.Count;
        new Span<T>(acc, cols).Clear();
        int q = 0;
        for (; q + 4 <= k; q += 4)
        {
            T* r0 = mat + q * ldm, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm;
            T x0 = x[q], x1 = x[q + 1], x2 = x[q + 2], x3 = x[q + 3];
            var v0 = new Vector<T>(x0);
            var v1 = new Vector<T>(x1);
            var v2 = new Vector<T>(x2);
            var v3 = new Vector<T>(x3);
            int j = 0;
            for (; j + w <= cols; j += w)
            {
                var a = Vector.Load(acc + j);
                a += Vector.Load(r0 + j) * v0 + Vector.Load(r1 + j) * v1 + Vector.Load(r2 + j) * v2 + Vector.Load(r3 + j) * v3;
                a.Store(acc + j);
            }

            for (; j < cols; j++) acc[j] += r0[j] * x0 + r1[j] * x1 + r2[j] * x2 + r3[j] * x3;
        }

        for (; q < k; q++)
        {
            T* r = mat + q * ldm;
            T xq = x[q];
            var v = new Vector<T>(xq);
            int j = 0;
            for (; j + w <= cols; j += w) (Vector.Load(acc + j) + Vector.Load(r + j) * v).Store(acc + j);
            for (; j < cols; j++) acc[j] += r[j] * xq;
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
        int mr = MR, nr = NR, kcBlock = KC, mcBlock = MC, ncBlock = NC;
        int K = p.K;
        int kcMax = Math.Min(kcBlock, K);
        int mcMax = Math.Min(mcBlock, RoundUp(m1 - m0, mr));
        int ncMax = Math.Min(ncBlock, RoundUp(n1 - n0, nr));
        T[] bufA = GetBuffer(ref t_bufA, mcMax * kcMax);
        T[] bufB = GetBuffer(ref t_bufB, ncMax * kcMax);
        T* tile = stackalloc T[mr * nr];
        T* A = (T*)p.A, B = (T*)p.B, C = (T*)p.C;
        int firstMode = p.Beta == T.Zero ? ModeOverwrite : p.Beta == T.One ? ModeAdd : ModeScale;

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
                    PackB(p.TransB, B, p.Ldb, pc, jc, kc, nc, packB);
                    int mode = pc == 0 ? firstMode : ModeAdd;
                    for (int ic = m0; ic < m1; ic += mcBlock)
                    {
                        int mc = Math.Min(mcBlock, m1 - ic);
                        PackA(p.TransA, A, p.Lda, ic, pc, mc, kc, p.Alpha, packA);
                        MacroKernel(mc, nc, kc, packA, packB, C + ic * p.Ldc + jc, p.Ldc, p.Beta, mode, tile);
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
                if (mrr == mr && nrr == nr)
                {
                    MicroKernel(kc, ap, bp, cp, ldc, beta, mode);
                }
                else
                {
                    MicroKernel(kc, ap, bp, tile, nr, T.Zero, ModeOverwrite);
                    MergeTile(tile, cp, ldc, mrr, nrr, beta, mode);
                }
            }
        }
    }

    /// <summary>Adds an edge tile computed into scratch (row stride NR) into C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTile(T* tile, T* c, nint ldc, int rows, int cols, T beta, int mode)
    {
        int nr = NR;
        for (int i = 0; i < rows; i++)
        {
            T* t = tile + i * nr;
            T* d = c + i * ldc;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var vb = Vector256.Create(beta);
                for (; j + Vector256<T>.Count <= cols; j += Vector256<T>.Count)
                {
                    var v = Vector256.Load(t + j);
                    if (mode == ModeAdd) v += Vector256.Load(d + j);
                    else if (mode == ModeScale) v += vb * Vector256.Load(d + j);
                    v.Store(d + j);
                }
            }
            for (; j < cols; j++)
            {
                T v = t[j];
                if (mode == ModeAdd) v += d[j];
                else if (mode == ModeScale) v += beta * d[j];
                d[j] = v;
            }
        }
    }

    // ------------------------------------------------------------------ packing
    //
    // Both operands are packed into "panels" of R interleaved vectors (R = MR for A, NR for B): element (q, i) of a
    // panel, q along k and i across the panel, lives at [q*R + i]. Depending on the transpose flag the R source
    // vectors are either contiguous for each q (a plain strided copy) or each source vector is contiguous along q
    // (a transpose, done in 4x4 register blocks). Lanes past the matrix edge are zero-filled so the micro-kernel
    // can always compute full tiles.

    /// <summary>Packs alpha * op(A)[row0.., col0..] (mc x kc) into MR-tall micro-panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, T* a, nint lda, int row0, int col0, int mc, int kc, T alpha, T* dst)
    {
        int mr = MR;
        bool scale = alpha != T.One;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            if (!transA) TransposePanel(a + (row0 + ir) * lda + col0, lda, rows, kc, dst, mr, alpha, scale); // A is m x k
            else CopyPanel(a + col0 * lda + row0 + ir, lda, rows, kc, dst, mr, alpha, scale);               // A is k x m
            dst += mr * kc;
        }
    }

    /// <summary>Packs op(B)[row0.., col0..] (kc x nc) into NR-wide micro-panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transB, T* b, nint ldb, int row0, int col0, int kc, int nc, T* dst)
    {
        int nr = NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            if (!transB) CopyPanel(b + row0 * ldb + col0 + jr, ldb, cols, kc, dst, nr, T.One, false);     // B is k x n
            else TransposePanel(b + (col0 + jr) * ldb + row0, ldb, cols, kc, dst, nr, T.One, false);     // B is n x k
            dst += nr * kc;
        }
    }

    /// <summary>dst[q*R + i] = s * src[q*ld + i] for i &lt; count (zero for count &lt;= i &lt; R), q &lt; kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPanel(T* src, nint ld, int count, int kc, T* dst, int r, T alpha, bool scale)
    {
        if (count == r && !scale)
        {
            for (int q = 0; q < kc; q++) CopyFull(src + q * ld, dst + q * r, r);
            return;
        }

        for (int q = 0; q < kc; q++)
        {
            T* s = src + q * ld;
            T* d = dst + q * r;
            int i = 0;
            if (scale) for (; i < count; i++) d[i] = alpha * s[i];
            else for (; i < count; i++) d[i] = s[i];
            for (; i < r; i++) d[i] = T.Zero;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFull(T* s, T* d, int r)
    {
        int i = 0;
        if (Use512)
        {
            for (; i + Vector512<T>.Count <= r; i += Vector512<T>.Count) Vector512.Load(s + i).Store(d + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<T>.Count <= r; i += Vector256<T>.Count) Vector256.Load(s + i).Store(d + i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + Vector128<T>.Count <= r; i += Vector128<T>.Count) Vector128.Load(s + i).Store(d + i);
        }
        for (; i < r; i++) d[i] = s[i];
    }

    /// <summary>dst[q*R + i] = s * src[i*ld + q] for i &lt; count (zero for count &lt;= i &lt; R), q &lt; kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposePanel(T* src, nint ld, int count, int kc, T* dst, int r, T alpha, bool scale)
    {
        int i = 0;
        if (CanTranspose4)
        {
            // Four source vectors at a time, 4 k steps per register transpose: reads stay sequential in four
            // streams and each store writes 4 consecutive panel lanes.
            for (; i + 4 <= count; i += 4)
            {
                T* s = src + i * ld;
                T* d = dst + i;
                int q = 0;
                for (; q + 4 <= kc; q += 4) Transpose4(s + q, ld, d + q * r, r, alpha, scale);
                for (; q < kc; q++)
                {
                    T* dq = d + q * r;
                    if (scale)
                    {
                        dq[0] = alpha * s[q]; dq[1] = alpha * s[ld + q]; dq[2] = alpha * s[2 * ld + q]; dq[3] = alpha * s[3 * ld + q];
                    }
                    else
                    {
                        dq[0] = s[q]; dq[1] = s[ld + q]; dq[2] = s[2 * ld + q]; dq[3] = s[3 * ld + q];
                    }
                }
            }
        }

        for (; i < count; i++)
        {
            T* s = src + i * ld;
            if (scale) for (int q = 0; q < kc; q++) dst[q * r + i] = alpha * s[q];
            else for (int q = 0; q < kc; q++) dst[q * r + i] = s[q];
        }

        if (count < r)
        {
            for (int q = 0; q < kc; q++)
                for (int z = count; z < r; z++) dst[q * r + z] = T.Zero;
        }
    }

    private static bool CanTranspose4 => typeof(T) == typeof(float) ? Sse.IsSupported : typeof(T) == typeof(double) && Avx.IsSupported;

    /// <summary>Transposes the 4x4 block s[i*ld + q] (i, q &lt; 4) into d[q*dstride + i], optionally scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(T* s, nint ld, T* d, nint dstride, T alpha, bool scale)
    {
        if (typeof(T) == typeof(float))
        {
            float* fs = (float*)s, fd = (float*)d;
            var r0 = Sse.LoadVector128(fs);
            var r1 = Sse.LoadVector128(fs + ld);
            var r2 = Sse.LoadVector128(fs + 2 * ld);
            var r3 = Sse.LoadVector128(fs + 3 * ld);
            var t0 = Sse.UnpackLow(r0, r1);   // r0[0] r1[0] r0[1] r1[1]
            var t1 = Sse.UnpackHigh(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
            var t2 = Sse.UnpackLow(r2, r3);
            var t3 = Sse.UnpackHigh(r2, r3);
            var o0 = Sse.MoveLowToHigh(t0, t2);  // r0[0] r1[0] r2[0] r3[0]
            var o1 = Sse.MoveHighToLow(t2, t0);  // r0[1] r1[1] r2[1] r3[1]
            var o2 = Sse.MoveLowToHigh(t1, t3);
            var o3 = Sse.MoveHighToLow(t3, t1);
            if (scale)
            {
                var va = Vector128.Create(Unsafe.As<T, float>(ref alpha));
                o0 *= va; o1 *= va; o2 *= va; o3 *= va;
            }
            o0.Store(fd);
            o1.Store(fd + dstride);
            o2.Store(fd + 2 * dstride);
            o3.Store(fd + 3 * dstride);
        }
        else if (typeof(T) == typeof(double))
        {
            double* ds = (double*)s, dd = (double*)d;
            var r0 = Avx.LoadVector256(ds);
            var r1 = Avx.LoadVector256(ds + ld);
            var r2 = Avx.LoadVector256(ds + 2 * ld);
            var r3 = Avx.LoadVector256(ds + 3 * ld);
            var t0 = Avx.UnpackLow(r0, r1);   // r0[0] r1[0] r0[2] r1[2]
            var t1 = Avx.UnpackHigh(r0, r1);  // r0[1] r1[1] r0[3] r1[3]
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var o0 = Avx.Permute2x128(t0, t2, 0x20);  // r0[0] r1[0] r2[0] r3[0]
            var o1 = Avx.Permute2x128(t1, t3, 0x20);  // r0[1] r1[1] r2[1] r3[1]
            var o2 = Avx.Permute2x128(t0, t2, 0x31);
            var o3 = Avx.Permute2x128(t1, t3, 0x31);
            if (scale)
            {
                var va = Vector256.Create(Unsafe.As<T, double>(ref alpha));
                o0 *= va; o1 *= va; o2 *= va; o3 *= va;
            }
            o0.Store(dd);
            o1.Store(dd + dstride);
            o2.Store(dd + 2 * dstride);
            o3.Store(dd + 3 * dstride);
        }
    }

    // ------------------------------------------------------------------ micro-kernels

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        if (Use512) Kernel512(kc, a, b, c, ldc, beta, mode);
        else if (Use256) Kernel256(kc, a, b, c, ldc, beta, mode);
        else KernelScalar(kc, a, b, c, ldc, beta, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MulAdd(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MulAdd(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(T* c, Vector512<T> v0, Vector512<T> v1, Vector512<T> vbeta, int mode)
    {
        T* c1 = c + Vector512<T>.Count;
        if (mode == ModeOverwrite)
        {
            v0.Store(c);
            v1.Store(c1);
        }
        else if (mode == ModeAdd)
        {
            (Vector512.Load(c) + v0).Store(c);
            (Vector512.Load(c1) + v1).Store(c1);
        }
        else
        {
            MulAdd(Vector512.Load(c), vbeta, v0).Store(c);
            MulAdd(Vector512.Load(c1), vbeta, v1).Store(c1);
        }
    }

    /// <summary>12 x (2 x Vector512) tile. Per k step: 2 vector loads of B, 12 broadcasts of A, 24 FMAs;
    /// 24 independent accumulators cover the FMA latency x throughput product (4 cycles x 2 pipes) three times over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<T> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;

        for (int q = 0; q < kc; q++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            Vector512<T> x;
            x = Vector512.Create(a[0]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = MulAdd(x, b0, c60); c61 = MulAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = MulAdd(x, b0, c70); c71 = MulAdd(x, b1, c71);
            x = Vector512.Create(a[8]); c80 = MulAdd(x, b0, c80); c81 = MulAdd(x, b1, c81);
            x = Vector512.Create(a[9]); c90 = MulAdd(x, b0, c90); c91 = MulAdd(x, b1, c91);
            x = Vector512.Create(a[10]); ca0 = MulAdd(x, b0, ca0); ca1 = MulAdd(x, b1, ca1);
            x = Vector512.Create(a[11]); cb0 = MulAdd(x, b0, cb0); cb1 = MulAdd(x, b1, cb1);
            a += 12;
            b += 2 * w;
        }

        var vb = Vector512.Create(beta);
        Store512(c, c00, c01, vb, mode); c += ldc;
        Store512(c, c10, c11, vb, mode); c += ldc;
        Store512(c, c20, c21, vb, mode); c += ldc;
        Store512(c, c30, c31, vb, mode); c += ldc;
        Store512(c, c40, c41, vb, mode); c += ldc;
        Store512(c, c50, c51, vb, mode); c += ldc;
        Store512(c, c60, c61, vb, mode); c += ldc;
        Store512(c, c70, c71, vb, mode); c += ldc;
        Store512(c, c80, c81, vb, mode); c += ldc;
        Store512(c, c90, c91, vb, mode); c += ldc;
        Store512(c, ca0, ca1, vb, mode); c += ldc;
        Store512(c, cb0, cb1, vb, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(T* c, Vector256<T> v0, Vector256<T> v1, Vector256<T> vbeta, int mode)
    {
        T* c1 = c + Vector256<T>.Count;
        if (mode == ModeOverwrite)
        {
            v0.Store(c);
            v1.Store(c1);
        }
        else if (mode == ModeAdd)
        {
            (Vector256.Load(c) + v0).Store(c);
            (Vector256.Load(c1) + v1).Store(c1);
        }
        else
        {
            MulAdd(Vector256.Load(c), vbeta, v0).Store(c);
            MulAdd(Vector256.Load(c1), vbeta, v1).Store(c1);
        }
    }

    /// <summary>6 x (2 x Vector256) tile: 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int q = 0; q < kc; q++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            Vector256<T> x;
            x = Vector256.Create(a[0]); c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a += 6;
            b += 2 * w;
        }

        var vb = Vector256.Create(beta);
        Store256(c, c00, c01, vb, mode); c += ldc;
        Store256(c, c10, c11, vb, mode); c += ldc;
        Store256(c, c20, c21, vb, mode); c += ldc;
        Store256(c, c30, c31, vb, mode); c += ldc;
        Store256(c, c40, c41, vb, mode); c += ldc;
        Store256(c, c50, c51, vb, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScalar(T* c, T v0, T v1, T v2, T v3, T beta, int mode)
    {
        if (mode == ModeAdd)
        {
            v0 += c[0]; v1 += c[1]; v2 += c[2]; v3 += c[3];
        }
        else if (mode == ModeScale)
        {
            v0 += beta * c[0]; v1 += beta * c[1]; v2 += beta * c[2]; v3 += beta * c[3];
        }
        c[0] = v0; c[1] = v1; c[2] = v2; c[3] = v3;
    }

    /// <summary>Portable 4 x 4 scalar tile (16 accumulators) for machines without AVX2/AVX-512.</summary>
    private static void KernelScalar(int kc, T* a, T* b, T* c, nint ldc, T beta, int mode)
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero, c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero, c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (int q = 0; q < kc; q++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T x = a[0]; c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1]; c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2]; c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3]; c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += 4;
            b += 4;
        }

        StoreScalar(c, c00, c01, c02, c03, beta, mode); c += ldc;
        StoreScalar(c, c10, c11, c12, c13, beta, mode); c += ldc;
        StoreScalar(c, c20, c21, c22, c23, beta, mode); c += ldc;
        StoreScalar(c, c30, c31, c32, c33, beta, mode);
    }
}

/// <summary>
/// Helper threads for <see cref="Gemm"/>. Dedicated background threads rather than the thread pool because of
/// wake-up latency: a blocked thread can take 0.1-2 ms to start running again (measured on the 2-vCPU development
/// VM), a large fraction of a typical call. After each job a helper keeps polling for the next one for about a
/// millisecond (yielding the core to any other runnable thread) before it blocks, so back-to-back calls, the usual
/// pattern in a network, find it awake. Callers never depend on a helper showing up (they claim work dynamically),
/// so a helper that is busy with another caller's job is simply skipped in favour of the thread pool.
/// </summary>
internal static class GemmHelpers
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;
    private static readonly object Gate = new();
    private static Helper[] s_helpers = Array.Empty<Helper>();

    public static void Start(IThreadPoolWorkItem job, int count)
    {
        Helper[] helpers = Volatile.Read(ref s_helpers);
        if (helpers.Length < count) helpers = Grow(count);
        int started = 0;
        for (int i = 0; i < helpers.Length && started < count; i++)
        {
            if (helpers[i].TryPost(job)) started++;
        }

        for (; started < count; started++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
    }

    private static Helper[] Grow(int count)
    {
        lock (Gate)
        {
            Helper[] helpers = s_helpers;
            if (helpers.Length >= count) return helpers;
            var grown = new Helper[count];
            Array.Copy(helpers, grown, helpers.Length);
            for (int i = helpers.Length; i < count; i++) grown[i] = new Helper(i);
            Volatile.Write(ref s_helpers, grown);
            return grown;
        }
    }

    private sealed class Helper
    {
        private readonly SemaphoreSlim _wake = new(0);
        private IThreadPoolWorkItem? _job;
        private int _sleeping;

        public Helper(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"BlurVae GEMM helper {index}" };
            thread.Start();
        }

        /// <summary>Hands the job to this helper if it is idle.</summary>
        public bool TryPost(IThreadPoolWorkItem job)
        {
            if (Interlocked.CompareExchange(ref _job, job, null) != null) return false;
            // Full fence (the CAS) before reading _sleeping; the helper fences between setting _sleeping and
            // re-reading _job, so at least one side sees the other and the wake-up cannot be lost.
            if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
            return true;
        }

        private void Loop()
        {
            long lastWork = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (true)
            {
                IThreadPoolWorkItem? job = Volatile.Read(ref _job);
                if (job != null)
                {
                    job.Execute();
                    Volatile.Write(ref _job, null);
                    lastWork = Stopwatch.GetTimestamp();
                    spin.Reset();
                    continue;
                }

                if (Stopwatch.GetTimestamp() - lastWork < SpinTicks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _job) == null) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                lastWork = Stopwatch.GetTimestamp();
                spin.Reset();
            }
        }
    }
}
