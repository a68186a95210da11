// Gemm.Sourced.cs - the GEMM of the convolutions (see Gemm.cs): B's packed panels written by a source (im2col
// straight into the micro-panels, so the column matrix is never stored), A and C with their columns in segments
// (one per image: dy[n, co, s] read as A, y[n, co, s] written as C, without gathers or scatters), and a bias per
// row of C added in the epilogue. The loop nest, blocking, threading and micro-kernels are the plain GEMM's.


namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Writes op(B)'s packed micro-panels for the GEMM directly (a convolution packs its im2col columns this way).
/// Called from several threads at once for disjoint column ranges, so it must not change any state of its own.
/// </summary>
internal unsafe interface IPanelSource<T> where T : unmanaged
{
    /// <summary>
    /// Writes op(B)[k0 + q, j0 + p] (q &lt; kc, p &lt; nc) to dst[(p / nr)·nr·kc + q·nr + p % nr]: panels of nr columns,
    /// each kc rows deep; the lanes of the last panel past nc are zero.
    /// </summary>
    void Pack(int k0, int kc, int j0, int nc, int nr, T* dst);
}

/// <summary>
/// Where element (i, j) of a row-major matrix lives when its columns come in segments of <see cref="Length"/> (the
/// images of a convolution's [channels, images·pixels] operand, stored as [images, channels, pixels]):
/// (j / Length)·Stride + i·Ld + j % Length. <see cref="Dense"/> is the plain layout (one segment).
/// </summary>
internal readonly record struct SegmentedLayout(int Ld, int Length, int Stride)
{
    public static SegmentedLayout Dense(int ld) => new(ld, 0, 0);

    /// <summary>Planes of <paramref name="length"/> elements, <paramref name="rows"/> of them per segment: x[n, row, s].</summary>
    public static SegmentedLayout Planes(int rows, int length) => new(length, length, rows * length);

    /// <summary>One past the last element a rows × cols matrix in this layout touches.</summary>
    public long Extent(int rows, int cols)
    {
        if (rows == 0 || cols == 0) return 0;
        long lastRow = (long)(rows - 1) * Ld;
        if (Length == 0) return lastRow + cols;
        long seg = (cols - 1) / Length;
        long last = seg * Stride + lastRow + (cols - 1) % Length;
        if (seg > 0) last = Math.Max(last, (seg - 1) * Stride + lastRow + Length - 1); // the end of a full segment
        return last + 1;
    }
}

public static partial class Gemm
{
    /// <summary>
    /// C[m x n] = A[m x k] · B[k x n] (+ beta·C), B's panels from <paramref name="b"/> (B[q, j] is the source's element
    /// (bOrigin.Row + q, bOrigin.Column + j), so one source serves the chunks of a batch), A and C in their layouts,
    /// then C[i, ·] += rowBias[i] where rowBias is not empty. <paramref name="transA"/>: A is stored k x m (dense
    /// layouts only), as the backward-input GEMM reads the weights [Cout, kdim] as [kdim, Cout]. The per-element sum
    /// order is the plain GEMM's, and does not depend on the thread count. <paramref name="packedA"/>: A's panels
    /// packed ahead (<see cref="PackedA{T}"/> of this same A), used instead of packing A again when the product runs
    /// on one thread; the values are the same, so the result is the same bits.
    /// </summary>
    internal static void Sourced<T>(int m, int n, int k, ReadOnlySpan<T> a, SegmentedLayout aLayout, IPanelSource<T> b,
        (int Row, int Column) bOrigin, Span<T> c, SegmentedLayout cLayout, T beta, ReadOnlySpan<T> rowBias, int maxThreads,
        bool transA = false, PackedA<T>? packedA = null) where T : unmanaged, INumber<T>
    {
        if (m < 0 || n < 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"a sourced GEMM needs m, n ≥ 0 and k > 0 (m={m}, n={n}, k={k}).");
        if (transA && aLayout.Length != 0) throw new ArgumentException("a transposed A must be dense.", nameof(aLayout));
        long aExtent = transA ? aLayout.Extent(k, m) : aLayout.Extent(m, k);
        if (aExtent > a.Length) throw new ArgumentException($"a has {a.Length} elements, its layout needs {aExtent}.", nameof(a));
        if (cLayout.Extent(m, n) > c.Length) throw new ArgumentException($"c has {c.Length} elements, its layout needs {cLayout.Extent(m, n)}.", nameof(c));
        if (!rowBias.IsEmpty && rowBias.Length < m) throw new ArgumentException($"rowBias has {rowBias.Length} elements for {m} rows.", nameof(rowBias));
        if (packedA is not null && (packedA.M != m || packedA.K != k || packedA.TransA != transA || packedA.Isa != Isa || aLayout.Length != 0))
            throw new ArgumentException($"packedA was packed for a {(packedA.TransA ? "transposed " : "")}dense {packedA.M} x {packedA.K} A with the {packedA.Isa} kernel; " +
                $"this product has a {(transA ? "transposed " : "")}{(aLayout.Length != 0 ? "segmented" : "dense")} {m} x {k} A and the {Isa} kernel.", nameof(packedA));
        switch (Isa)
        {
            case GemmIsa.Avx512: GemmCore<T, Avx512Tile<T>>.RunSourced(m, n, k, a, aLayout, transA, b, bOrigin, c, cLayout, beta, rowBias, maxThreads, packedA); break;
            case GemmIsa.Avx2: GemmCore<T, Avx2Tile<T>>.RunSourced(m, n, k, a, aLayout, transA, b, bOrigin, c, cLayout, beta, rowBias, maxThreads, packedA); break;
            default: GemmCore<T, ScalarTile<T>>.RunSourced(m, n, k, a, aLayout, transA, b, bOrigin, c, cLayout, beta, rowBias, maxThreads, packedA); break;
        }
    }
}

/// <summary>
/// A dense A's micro-panels, packed once for a run of sourced GEMMs that all multiply it: a convolution's image chunks
/// share the weights, and each chunk's GEMM used to pack them again (a tenth of those GEMMs' time at celeba64's forward
/// chunks of 256 columns). Packed by the micro-kernel in use when made (<see cref="Gemm.Isa"/>); rented from the pool.
/// </summary>
internal sealed class PackedA<T> : IDisposable where T : unmanaged, INumber<T>
{
    public int M { get; }
    public int K { get; }
    public bool TransA { get; }
    public GemmIsa Isa { get; }
    internal T[] Panels { get; }

    private PackedA(int m, int k, bool transA, GemmIsa isa, T[] panels) => (M, K, TransA, Isa, Panels) = (m, k, transA, isa, panels);

    /// <summary>Packs op(A), m x k, of a dense A with leading dimension <paramref name="lda"/> (A stored k x m when <paramref name="transA"/>).</summary>
    public static PackedA<T> Of(int m, int k, ReadOnlySpan<T> a, int lda, bool transA)
    {
        if (m <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(m), $"a packed A needs m, k > 0 (m={m}, k={k}).");
        var layout = SegmentedLayout.Dense(lda);
        long extent = transA ? layout.Extent(k, m) : layout.Extent(m, k);
        if (extent > a.Length) throw new ArgumentException($"a has {a.Length} elements, a dense {m} x {k} A with ld {lda} needs {extent}.", nameof(a));
        var isa = Gemm.Isa;
        T[] panels = isa switch
        {
            GemmIsa.Avx512 => GemmCore<T, Avx512Tile<T>>.PackAll(m, k, a, lda, transA),
            GemmIsa.Avx2 => GemmCore<T, Avx2Tile<T>>.PackAll(m, k, a, lda, transA),
            _ => GemmCore<T, ScalarTile<T>>.PackAll(m, k, a, lda, transA),
        };
        return new PackedA<T>(m, k, transA, isa, panels);
    }

    public void Dispose() => System.Buffers.ArrayPool<T>.Shared.Return(Panels);
}

internal static unsafe partial class GemmCore<T, TTile> where T : unmanaged, INumber<T> where TTile : struct, IGemmTile<T>
{
    public static void RunSourced(int m, int n, int k, ReadOnlySpan<T> a, SegmentedLayout aLayout, bool transA, IPanelSource<T> b,
        (int Row, int Column) bOrigin, Span<T> c, SegmentedLayout cLayout, T beta, ReadOnlySpan<T> rowBias, int maxThreads,
        PackedA<T>? packedA = null)
    {
        if (m == 0 || n == 0) return;
        fixed (T* pa = a)
        fixed (T* pc = c)
        fixed (T* pbias = rowBias)
        fixed (T* ppacked = packedA?.Panels)
        {
            var p = new Problem
            {
                TransA = transA, M = m, N = n, K = k, Alpha = T.One, Beta = beta, A = (nint)pa, C = (nint)pc,
                Lda = aLayout.Ld, Ldc = cLayout.Ld, BSource = b, BRow0 = bOrigin.Row, BColumn0 = bOrigin.Column,
                ASegment = aLayout.Length, ASegmentStride = aLayout.Stride,
                CSegment = cLayout.Length, CSegmentStride = cLayout.Stride,
                Bias = rowBias.IsEmpty ? 0 : (nint)pbias,
            };
            // No matrix-vector shortcut here (it reads a stored B): one row or column goes through the tiles.
            int threads = maxThreads <= 0 ? Environment.ProcessorCount : maxThreads;
            long work = (long)m * n * k;
            threads = work < SingleThreadWork ? 1 : (int)Math.Max(1, Math.Min(threads, work / MinWorkPerThread));
            // Only the one-thread loop (Compute over all rows) reads packed blocks; the threaded one packs per thread.
            if (threads <= 1) p.PackedA = (nint)ppacked;
            if (p.CSegment == 0 || p.CSegment % NR == 0 || p.CSegment >= n)
            {
                Run(in p, threads);
                return;
            }
            // Segments narrower than (or not a multiple of) a tile would cut every tile of every k block into merges:
            // compute C densely into scratch instead, and copy it out (with the bias) once.
            T[] dense = System.Buffers.ArrayPool<T>.Shared.Rent(m * n);
            try
            {
                fixed (T* pd = dense)
                {
                    var q = p;
                    (q.C, q.Ldc, q.CSegment, q.CSegmentStride, q.Bias) = ((nint)pd, n, 0, 0, 0);
                    if (beta != T.Zero) CopySegments(in p, pd, n, m, fromC: true);
                    Run(in q, threads);
                    CopySegments(in p, pd, n, m, fromC: false);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<T>.Shared.Return(dense);
            }
        }
    }

    private static void Run(in Problem p, int threads)
    {
        if (threads <= 1) Compute(in p, 0, p.M, 0, p.N);
        else new GemmJob(in p, threads).Run();
    }

    /// <summary>Copies the segmented C of <paramref name="p"/> to or from a dense m x n matrix, adding the bias on the way out.</summary>
    private static void CopySegments(in Problem p, T* dense, int n, int m, bool fromC)
    {
        T* bias = (T*)p.Bias;
        for (int j = 0; j < n;)
        {
            int seg = j / p.CSegment, s = j - seg * p.CSegment, len = Math.Min(p.CSegment - s, n - j);
            for (int i = 0; i < m; i++)
            {
                var c = new Span<T>((T*)p.C + seg * p.CSegmentStride + i * p.Ldc + s, len);
                var d = new Span<T>(dense + (nint)i * n + j, len);
                if (fromC) c.CopyTo(d);
                else if (bias == null) d.CopyTo(c);
                else System.Numerics.Tensors.TensorPrimitives.Add<T>(d, bias[i], c);
            }
            j += len;
        }
    }

    /// <summary>Where <see cref="PackAll"/> puts block (pc, ic), kc deep: after the k blocks before pc (each RoundUp(m, MR)
    /// rows of panels) and the row blocks before ic in its own (MC rows, a multiple of MR, each).</summary>
    private static nint PackedOffset(int m, int pc, int ic, int kc) => (nint)pc * RoundUp(m, MR) + (nint)ic * kc;

    /// <summary>Packs every (k block, row block) of a dense op(A) exactly as Compute would, at <see cref="PackedOffset"/>,
    /// into an array rented from the pool (k · RoundUp(m, MR) elements used).</summary>
    public static T[] PackAll(int m, int k, ReadOnlySpan<T> a, int lda, bool transA)
    {
        T[] panels = System.Buffers.ArrayPool<T>.Shared.Rent(k * RoundUp(m, MR));
        fixed (T* pa = a)
        fixed (T* dst = panels)
        {
            var p = new Problem { TransA = transA, M = m, K = k, Alpha = T.One, A = (nint)pa, Lda = lda };
            int kcBlock = KBlock(k, out _);
            for (int pc = 0; pc < k; pc += kcBlock)
            {
                int kc = Math.Min(kcBlock, k - pc);
                for (int ic = 0; ic < m; ic += MC) PackA(in p, ic, pc, Math.Min(MC, m - ic), kc, dst + PackedOffset(m, pc, ic, kc));
            }
        }
        return panels;
    }

    /// <summary>Packs A[row0.., col0..] (mc x kc) into MR-tall micro-panels: op(A) of a plain GEMM, or a segmented A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackA(in Problem p, int row0, int col0, int mc, int kc, T* dst)
    {
        if (p.ASegment == 0)
        {
            PackA(p.TransA, (T*)p.A, p.Lda, row0, col0, mc, kc, p.Alpha, dst);
            return;
        }
        // Each segment's piece of the k range is a plain row-major block: transpose it into its rows of the panels.
        int mr = MR;
        bool scale = p.Alpha != T.One;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            for (int q = 0; q < kc;)
            {
                int col = col0 + q, seg = col / p.ASegment, off = col - seg * p.ASegment;
                int len = Math.Min(p.ASegment - off, kc - q);
                T* src = (T*)p.A + seg * p.ASegmentStride + (row0 + ir) * p.Lda + off;
                TransposePanel(src, p.Lda, rows, len, dst + q * mr, mr, p.Alpha, scale);
                q += len;
            }
            dst += mr * kc;
        }
    }

    /// <summary>Packs op(B)[row0.., col0..] (kc x nc) into NR-wide micro-panels, from the stored B or the source.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackB(in Problem p, int row0, int col0, int kc, int nc, T* dst)
    {
        if (p.BSource is { } source) source.Pack(p.BRow0 + row0, kc, p.BColumn0 + col0, nc, NR, dst);
        else PackB(p.TransB, (T*)p.B, p.Ldb, row0, col0, kc, nc, dst);
    }

    /// <summary>C[ic.., jcol..] (mc x nc) op= the packed A block · the packed B block, k block pc … pc+kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(in Problem p, int ic, int mc, int jcol, int nc, int pc, int kc, T* packA, T* packB, int mode, T* tile)
    {
        if (p.CSegment == 0 && p.Bias == 0)
            MacroKernel(mc, nc, kc, packA, packB, (T*)p.C + ic * p.Ldc + jcol, p.Ldc, p.Beta, mode, tile);
        else
            MacroKernelMapped(in p, ic, mc, jcol, nc, kc, packA, packB, mode, pc + kc == p.K, tile);
    }

    /// <summary>
    /// The macro-kernel for a segmented C or a bias: a full tile inside one segment goes straight to C, as in
    /// <see cref="MacroKernel"/>; a tile cut by a segment's or C's edge, and every tile of the last k block when
    /// there is a bias, goes through the scratch tile and is merged piece by piece (the bias added after the last
    /// block's sum, so the rounding is that of C + bias).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernelMapped(in Problem p, int ic, int mc, int jcol, int nc, int kc, T* packA, T* packB, int mode, bool lastBlock, T* tile)
    {
        int mr = MR, nr = NR;
        int segment = p.CSegment == 0 ? int.MaxValue : p.CSegment;
        T* bias = lastBlock && p.Bias != 0 ? (T*)p.Bias + ic : null;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nrr = Math.Min(nr, nc - jr);
            T* bp = packB + (nint)jr * kc;
            int j = jcol + jr, seg = j / segment, s = j - seg * segment;
            T* c0 = (T*)p.C + seg * p.CSegmentStride + s;
            bool inside = s + nrr <= segment;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mrr = Math.Min(mr, mc - ir);
                T* ap = packA + (nint)ir * kc;
                if (inside && bias == null && nrr == nr)
                {
                    Tile(mrr, kc, ap, bp, c0 + (ic + ir) * p.Ldc, p.Ldc, p.Beta, mode);
                    continue;
                }
                Tile(mrr, kc, ap, bp, tile, nr, T.Zero, GemmMode.Overwrite);
                T* rowBias = bias == null ? null : bias + ir;
                for (int q = 0; q < nrr;)
                {
                    int jq = j + q, sq = jq % segment, len = Math.Min(segment - sq, nrr - q);
                    T* cq = (T*)p.C + jq / segment * p.CSegmentStride + sq + (ic + ir) * p.Ldc;
                    MergeTile(tile + q, cq, p.Ldc, mrr, len, p.Beta, mode, rowBias);
                    q += len;
                }
            }
        }
    }
}
