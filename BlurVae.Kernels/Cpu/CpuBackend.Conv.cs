using System.Buffers;
using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// 2-D convolution as im2col + GEMM, except for the thin layers DirectConv handles. The batch is split into chunks of
// images whose column matrix fits the core's cache (see Conv<T>.ChunkPlan); where that would leave fewer than two
// chunks (the deep layers of a VAE encoder, with only 2×2 or 4×4 outputs per image) one GEMM of
// [Cout, Cin·k²]·[Cin·k², N·OH·OW] over the whole batch keeps the GEMM wide enough for the SIMD micro-kernel.
public sealed partial class CpuBackend
{
    public void Conv2dForward(BackendBuffer y, BackendBuffer x, BackendBuffer w, BackendBuffer? bias, ConvGeometry g)
    {
        ShapeRules.Conv(g, x, w, y, bias);
        if (IsF32(x)) Conv<float>.Forward(Arr<float>(y), Arr<float>(x), Arr<float>(w), ArrOrNull<float>(bias), g);
        else Conv<double>.Forward(Arr<double>(y), Arr<double>(x), Arr<double>(w), ArrOrNull<double>(bias), g);
    }

    public void Conv2dBackwardInput(BackendBuffer dx, BackendBuffer dy, BackendBuffer w, ConvGeometry g, BackendBuffer? bias = null)
    {
        ShapeRules.Conv(g, dx, w, dy, null);
        if (bias is not null) ShapeRules.Length(bias, g.InChannels, "bias");
        if (IsF32(dy))
        {
            Conv<float>.BackwardInput(Arr<float>(dx), Arr<float>(dy), Arr<float>(w), g);
            if (bias is not null) Conv<float>.AddChannelBias(Arr<float>(dx), Arr<float>(bias), g.N, g.InChannels, g.InH * g.InW);
        }
        else
        {
            Conv<double>.BackwardInput(Arr<double>(dx), Arr<double>(dy), Arr<double>(w), g);
            if (bias is not null) Conv<double>.AddChannelBias(Arr<double>(dx), Arr<double>(bias), g.N, g.InChannels, g.InH * g.InW);
        }
    }

    public void Conv2dBackwardWeight(BackendBuffer dw, BackendBuffer? dbias, BackendBuffer dy, BackendBuffer x, ConvGeometry g)
    {
        ShapeRules.Conv(g, x, dw, dy, dbias);
        if (IsF32(dy)) Conv<float>.BackwardWeight(Arr<float>(dw), ArrOrNull<float>(dbias), Arr<float>(dy), Arr<float>(x), g);
        else Conv<double>.BackwardWeight(Arr<double>(dw), ArrOrNull<double>(dbias), Arr<double>(dy), Arr<double>(x), g);
    }

    // im2col from a phase split: measured faster only for wide output rows (OutW ≥ 16); shorter rows make the
    // copies too short to beat the strided gather. Both phase splits assume one stride and padding for both axes;
    // a per-axis geometry (Inception's 1×7, 7×1) takes the direct gathers and scatters.
    internal static bool UsesPhasedIm2Col(ConvGeometry g) => g.IsUniform && g.Stride > 1 && g.OutW >= 16;

    private static partial class Conv<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static bool IsFloat => typeof(T) == typeof(float);

        // Batch chunking: a column matrix of the whole batch is tens of megabytes for the wide layers, so im2col,
        // GEMM and col2im each stream it through memory. Split into chunks of images whose column matrix fits the
        // per-core cache, each chunk runs im2col → single-threaded GEMM → scatter while its columns are still hot,
        // and the cores take whole chunks. Chunks keep at least MinChunkColumns columns so each GEMM stays wide.
        private const int ChunkColumnBytes = 512 * 1024;
        private const int MinChunkColumns = 256;
        // Partial weight gradients per backward-weight pass: a constant, so the sum's order (and its rounding)
        // does not depend on the thread count.
        private const int WeightGroups = 4;

        /// <summary>
        /// How one pass of the three cuts the batch, one rule for all: the column matrix has Kdim = Cin·KH·KW rows and
        /// Spatial = OH·OW columns per image; Images per chunk, or 0 when the batch is better done as one wide GEMM
        /// (fewer than two chunks). A chunk's scratch holds its column matrix [Kdim, Images·Spatial] and, from
        /// <see cref="OtherOffset"/>, the other GEMM operand [Cout, Images·Spatial] (the output, or dy).
        /// </summary>
        private readonly record struct ChunkPlan(int N, int Kdim, int Spatial, int OutChannels, int Images)
        {
            public static ChunkPlan Of(ConvGeometry g)
            {
                int kdim = g.InChannels * g.KernelH * g.KernelW;
                int spatial = g.OutH * g.OutW;
                long perImage = (long)kdim * spatial * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                int byCache = (int)Math.Max(1, ChunkColumnBytes / Math.Max(1, perImage));
                int byWidth = (MinChunkColumns + spatial - 1) / spatial;
                int cb = Math.Min(g.N, Math.Max(byCache, byWidth));
                return new ChunkPlan(g.N, kdim, spatial, g.OutChannels, (g.N + cb - 1) / cb >= 2 ? cb : 0);
            }

            public int Chunks => (N + Images - 1) / Images;
            public int OtherOffset => Images * Kdim * Spatial;
            public int ScratchLength => OtherOffset + OutChannels * Images * Spatial;
            /// <summary>Columns of the whole-batch GEMM (Images = 0).</summary>
            public int AllColumns => N * Spatial;

            /// <summary>A chunk's first image, image count and GEMM columns: the images spread evenly (counts differ by at
            /// most one, none above Images), so no short last chunk leaves a core idle at the end.</summary>
            public (int N0, int Count, int Columns) Chunk(int chunk)
            {
                int n0 = (int)((long)N * chunk / Chunks), nb = (int)((long)N * (chunk + 1) / Chunks) - n0;
                return (n0, nb, nb * Spatial);
            }
        }

        public static void Forward(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g)
        {
            if (DirectConv<T>.Suits(g))
            {
                DirectConv<T>.Forward(y, x, w, bias, g);
                return;
            }
            var plan = ChunkPlan.Of(g);
            int kdim = plan.Kdim, spatial = plan.Spatial;
            if (plan.Images > 0)
            {
                using var src = ColumnSource.Of(x, g);
                ForChunks(plan.Chunks, plan.ScratchLength, (chunk, scratch) =>
                {
                    var (n0, nb, cols) = plan.Chunk(chunk);
                    T[] col = scratch, outT = scratch;
                    int outOff = plan.OtherOffset;
                    for (int row = 0; row < kdim; row++) src.Im2ColRow(col, 0, n0, nb, g, row);
                    GemmT(false, false, g.OutChannels, cols, kdim, w, 0, kdim, col, 0, cols, outT, outOff, cols, 1);
                    for (int i = 0; i < nb * g.OutChannels; i++)
                    {
                        int n = i / g.OutChannels, co = i % g.OutChannels;
                        ScatterWithBias(y, ((n0 + n) * g.OutChannels + co) * spatial, outT, outOff + co * cols + n * spatial, spatial, bias, co);
                    }
                });
                return;
            }
            int allCols = plan.AllColumns;
            T[] colAll = ArrayPool<T>.Shared.Rent(kdim * allCols);
            T[] outAll = ArrayPool<T>.Shared.Rent(g.OutChannels * allCols);
            using var source = ColumnSource.Of(x, g);
            try
            {
                Parallelism.ForEach(kdim, allCols, row => source.Im2ColRow(colAll, 0, 0, g.N, g, row));
                // [Cout, kdim] · [kdim, N·S] → [Cout, N·S]
                GemmT(false, false, g.OutChannels, allCols, kdim, w, 0, kdim, colAll, 0, allCols, outAll, 0, allCols, Parallelism.MaxThreads);
                // Scatter [Cout, N, S] into y[N, Cout, S], adding the bias on the way.
                Parallelism.ForEach(g.N * g.OutChannels, spatial, nc =>
                {
                    int n = nc / g.OutChannels, co = nc % g.OutChannels;
                    ScatterWithBias(y, nc * spatial, outAll, co * allCols + n * spatial, spatial, bias, co);
                });
            }
            finally
            {
                ArrayPool<T>.Shared.Return(colAll);
                ArrayPool<T>.Shared.Return(outAll);
            }
        }

        public static void BackwardInput(T[] dx, T[] dy, T[] w, ConvGeometry g)
        {
            if (DirectConv<T>.SuitsBackwardInput(g))
            {
                DirectConv<T>.BackwardInput(dx, dy, w, g);
                return;
            }
            if (UsesPhases(g))
            {
                BackwardInputByPhases(dx, dy, w, g);
                return;
            }
            var plan = ChunkPlan.Of(g);
            int kdim = plan.Kdim, spatial = plan.Spatial;
            var col2im = Col2ImPlan.Of(g);
            if (plan.Images > 0)
            {
                ForChunks(plan.Chunks, plan.ScratchLength, (chunk, scratch) =>
                {
                    var (n0, nb, cols) = plan.Chunk(chunk);
                    int dyOff = plan.OtherOffset;
                    GatherChannelMajor(scratch, dyOff, dy, n0, nb, g.OutChannels, spatial);
                    // [kdim, Cout] · [Cout, nb·S] → [kdim, nb·S]
                    GemmT(true, false, kdim, cols, g.OutChannels, w, 0, kdim, scratch, dyOff, cols, scratch, 0, cols, 1);
                    for (int i = 0; i < nb * g.InChannels; i++) Col2ImPlane(dx, scratch, n0, nb, g, n0 * g.InChannels + i, col2im);
                    // Images n0 … n0+nb−1 of dx are complete here.
                });
                return;
            }
            int allCols = plan.AllColumns;
            T[] dyT = ArrayPool<T>.Shared.Rent(g.OutChannels * allCols);
            T[] dcol = ArrayPool<T>.Shared.Rent(kdim * allCols);
            try
            {
                Parallelism.ForEach(g.N, (long)g.OutChannels * spatial, n => GatherChannelMajor(dyT, n * spatial, dy, n, 1, g.OutChannels, spatial, allCols));
                // [kdim, Cout] · [Cout, N·S] → [kdim, N·S]
                GemmT(true, false, kdim, allCols, g.OutChannels, w, 0, kdim, dyT, 0, allCols, dcol, 0, allCols, Parallelism.MaxThreads);
                Parallelism.ForEach(g.N * g.InChannels, (long)kdim / g.InChannels * spatial, nc => Col2ImPlane(dx, dcol, 0, g.N, g, nc, col2im));
                // All images of dx are complete here.
            }
            finally
            {
                ArrayPool<T>.Shared.Return(dyT);
                ArrayPool<T>.Shared.Return(dcol);
            }
        }

        public static void BackwardWeight(T[] dw, T[]? dbias, T[] dy, T[] x, ConvGeometry g)
        {
            if (DirectConv<T>.Suits(g))
            {
                DirectConv<T>.BackwardWeight(dw, dbias, dy, x, g);
                return;
            }
            var plan = ChunkPlan.Of(g);
            int kdim = plan.Kdim, spatial = plan.Spatial;
            if (plan.Images > 0)
            {
                int chunks = plan.Chunks;
                int groups = Math.Min(WeightGroups, chunks);
                int wlen = g.OutChannels * kdim;
                T[] partials = ArrayPool<T>.Shared.Rent(groups * wlen);
                using var src = ColumnSource.Of(x, g);
                try
                {
                    // Group grp sums its run of chunks into its own partial (the first chunk overwrites it).
                    ForChunkRuns(chunks, groups, (long)chunks * plan.ScratchLength / groups, plan.ScratchLength, (grp, chunk, first, scratch) =>
                    {
                        var (n0, nb, cols) = plan.Chunk(chunk);
                        int dyOff = plan.OtherOffset;
                        for (int row = 0; row < kdim; row++) src.Im2ColRow(scratch, 0, n0, nb, g, row);
                        GatherChannelMajor(scratch, dyOff, dy, n0, nb, g.OutChannels, spatial);
                        // [Cout, nb·S] · [nb·S, kdim] (+)→ [Cout, kdim]
                        GemmT(false, true, g.OutChannels, kdim, cols, scratch, dyOff, cols, scratch, 0, cols,
                              partials, grp * wlen, kdim, 1, first ? T.Zero : T.One);
                    });
                    partials.AsSpan(0, wlen).CopyTo(dw);
                    for (int grp = 1; grp < groups; grp++) TensorPrimitives.Add(dw, partials.AsSpan(grp * wlen, wlen), dw);
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(partials);
                }
                if (dbias is not null) BiasGradient(dbias, dy, g.N, g.OutChannels, spatial);
                return;
            }
            int allCols = plan.AllColumns;
            T[] dyT = ArrayPool<T>.Shared.Rent(g.OutChannels * allCols);
            T[] col = ArrayPool<T>.Shared.Rent(kdim * allCols);
            using var source = ColumnSource.Of(x, g);
            try
            {
                Parallelism.ForEach(g.N, (long)g.OutChannels * spatial, n => GatherChannelMajor(dyT, n * spatial, dy, n, 1, g.OutChannels, spatial, allCols));
                Parallelism.ForEach(kdim, allCols, row => source.Im2ColRow(col, 0, 0, g.N, g, row));
                // [Cout, N·S] · [N·S, kdim] → [Cout, kdim]
                GemmT(false, true, g.OutChannels, kdim, allCols, dyT, 0, allCols, col, 0, allCols, dw, 0, kdim, Parallelism.MaxThreads);
                if (dbias is not null)
                    for (int co = 0; co < g.OutChannels; co++)
                        dbias[co] = TensorPrimitives.Sum<T>(dyT.AsSpan(co * allCols, allCols));
            }
            finally
            {
                ArrayPool<T>.Shared.Return(dyT);
                ArrayPool<T>.Shared.Return(col);
            }
        }

        // Runs body(chunk, scratch) for every chunk, the chunks claimed one by one by whichever core is free (a fixed
        // run of chunks per core left one core idle for a whole chunk at the end of an odd count).
        private static void ForChunks(int chunks, int scratchLength, Action<int, T[]> body) =>
            Parallelism.ForEach(chunks, 1L << 30, chunk =>
            {
                T[] scratch = ArrayPool<T>.Shared.Rent(scratchLength);
                try
                {
                    body(chunk, scratch);
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(scratch);
                }
            });

        // Runs body(worker, chunk, first, scratch) for every chunk: each of the workers takes a contiguous run of chunks
        // (first: the run's first chunk) and one scratch array; work is the cost hint of one worker's run.
        private static void ForChunkRuns(int chunks, int workers, long work, int scratchLength, Action<int, int, bool, T[]> body)
        {
            Parallelism.ForEach(workers, work, wi =>
            {
                T[] scratch = ArrayPool<T>.Shared.Rent(scratchLength);
                try
                {
                    int c0 = (int)((long)chunks * wi / workers), c1 = (int)((long)chunks * (wi + 1) / workers);
                    for (int c = c0; c < c1; c++) body(wi, c, c == c0, scratch);
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(scratch);
                }
            });
        }

        private static void ScatterWithBias(T[] y, int yOff, T[] src, int srcOff, int length, T[]? bias, int co)
        {
            var s = src.AsSpan(srcOff, length);
            var d = y.AsSpan(yOff, length);
            if (bias is null) s.CopyTo(d);
            else TensorPrimitives.Add(s, bias[co], d);
        }

        // y[n, c, s] += bias[c]: one rounding per element, the same as the device epilogue's v + bias[c].
        public static void AddChannelBias(T[] y, T[] bias, int n, int c, int spatial)
        {
            for (int plane = 0; plane < n * c; plane++)
            {
                var span = y.AsSpan(plane * spatial, spatial);
                TensorPrimitives.Add(span, bias[plane % c], span);
            }
        }

        // dbias[co] = Σ_n Σ_s dy[n, co, s], in a fixed order.
        private static void BiasGradient(T[] dbias, T[] dy, int n, int c, int spatial)
        {
            for (int co = 0; co < c; co++)
            {
                T sum = T.Zero;
                for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum<T>(dy.AsSpan((i * c + co) * spatial, spatial));
                dbias[co] = sum;
            }
        }

        private static void GemmT(bool ta, bool tb, int m, int n, int k, T[] a, int aOff, int lda, T[] b, int bOff, int ldb, T[] c, int cOff, int ldc, int threads, T? beta = null)
        {
            T bt = beta ?? T.Zero;
            if (IsFloat)
                Cpu.Gemm.Sgemm(ta, tb, m, n, k, 1f, ((float[])(object)a).AsSpan(aOff), lda, ((float[])(object)b).AsSpan(bOff), ldb, float.CreateTruncating(bt), ((float[])(object)c).AsSpan(cOff), ldc, threads);
            else
                Cpu.Gemm.Dgemm(ta, tb, m, n, k, 1.0, ((double[])(object)a).AsSpan(aOff), lda, ((double[])(object)b).AsSpan(bOff), ldb, double.CreateTruncating(bt), ((double[])(object)c).AsSpan(cOff), ldc, threads);
        }

        // dy[n0 … n0+nb, C, S] → dst[dstOff + (ci·ld) + (n − n0)·S], ld = nb·S by default: channel-major columns.
        private static void GatherChannelMajor(T[] dst, int dstOff, T[] src, int n0, int nb, int c, int spatial, int ld = -1)
        {
            if (ld < 0) ld = nb * spatial;
            for (int ni = 0; ni < nb; ni++)
                for (int ci = 0; ci < c; ci++)
                    src.AsSpan(((n0 + ni) * c + ci) * spatial, spatial).CopyTo(dst.AsSpan(dstOff + ci * ld + ni * spatial, spatial));
        }

        // The outputs ow ∈ [lo, hi) whose tap at column offset iw0 (= j − p) reads inside a row of width inW.
        private static (int Lo, int Hi) ValidColumns(int iw0, int stride, int outW, int inW)
        {
            int lo = Math.Min(outW, Math.Max(0, (-iw0 + stride - 1) / stride));
            int last = inW - 1 - iw0; // the last output reading inside the row is last / stride (none when last < 0)
            int hi = last < 0 ? lo : Math.Max(lo, Math.Min(outW, last / stride + 1));
            return (lo, hi);
        }

        // One row of the column matrix of images n0 … n0+nb−1:
        // col[colOff + row·(nb·S) + (n − n0)·S + oh·OW + ow] = x[n, ci, oh·sh − ph + i, ow·sw − pw + j] (0 outside), row = (ci·kh + i)·kw + j.
        // Where im2col reads from: the input itself at stride 1, or at stride s > 1 a zero-padded, phase-split copy of
        // it (DirectConv.SplitPhases), made once per op, in which every tap of every output row is one contiguous run,
        // so a column row is a series of plain copies instead of a strided gather. The columns are the same values.
        private sealed class ColumnSource : IDisposable
        {
            private readonly T[] _x;
            private readonly T[]? _phases;
            private readonly DirectConv<T>.Phases _ph;

            private ColumnSource(T[] x, T[]? phases, DirectConv<T>.Phases ph)
            {
                _x = x;
                _phases = phases;
                _ph = ph;
            }

            public static ColumnSource Of(T[] x, ConvGeometry g)
            {
                if (!UsesPhasedIm2Col(g)) return new ColumnSource(x, null, default);
                var ph = DirectConv<T>.Phases.Of(g);
                T[] phases = ArrayPool<T>.Shared.Rent(g.N * g.InChannels * ph.ChannelLength);
                DirectConv<T>.SplitPhases(phases, x, g, ph);
                return new ColumnSource(x, phases, ph);
            }

            public void Im2ColRow(T[] col, int colOff, int n0, int nb, ConvGeometry g, int row)
            {
                if (_phases is null)
                {
                    Im2ColRowDirect(col, colOff, _x, n0, nb, g, row);
                    return;
                }
                int kk = g.KernelH * g.KernelW;
                int spatial = g.OutH * g.OutW;
                int ci = row / kk;
                int tap = _ph.TapOffset(row % kk / g.KernelW, row % g.KernelW);
                var dstRow = col.AsSpan(colOff + row * nb * spatial, nb * spatial);
                for (int ni = 0; ni < nb; ni++)
                {
                    int src = ((n0 + ni) * g.InChannels + ci) * _ph.ChannelLength + tap;
                    for (int oh = 0; oh < g.OutH; oh++)
                        _phases.AsSpan(src + oh * _ph.Pw, g.OutW).CopyTo(dstRow.Slice(ni * spatial + oh * g.OutW, g.OutW));
                }
            }

            public void Dispose()
            {
                if (_phases is not null) ArrayPool<T>.Shared.Return(_phases);
            }
        }

        private static void Im2ColRowDirect(T[] col, int colOff, T[] x, int n0, int nb, ConvGeometry g, int row)
        {
            int kk = g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = nb * spatial;
            int ci = row / kk, i = row % kk / g.KernelW, j = row % g.KernelW;
            int s = g.StrideW, iw0 = j - g.PaddingW;
            var (lo, hi) = ValidColumns(iw0, s, g.OutW, g.InW);
            var dstRow = col.AsSpan(colOff + row * cols, cols);
            if (hi <= lo)
            {
                dstRow.Clear();
                return;
            }
            for (int ni = 0; ni < nb; ni++)
            {
                int plane = ((n0 + ni) * g.InChannels + ci) * g.InH * g.InW;
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    var dst = dstRow.Slice(ni * spatial + oh * g.OutW, g.OutW);
                    int ih = oh * g.StrideH - g.PaddingH + i;
                    if ((uint)ih >= (uint)g.InH)
                    {
                        dst.Clear();
                        continue;
                    }
                    int srcStart = plane + ih * g.InW + iw0 + lo * s;
                    if (lo > 0) dst.Slice(0, lo).Clear();
                    if (hi < g.OutW) dst.Slice(hi).Clear();
                    if (s == 1)
                    {
                        x.AsSpan(srcStart, hi - lo).CopyTo(dst.Slice(lo));
                    }
                    else
                    {
                        // The strided gather of the valid run: ValidColumns keeps it inside the row, so no bounds tests.
                        ref T src = ref x[srcStart];
                        ref T d = ref dst[lo];
                        for (int ow = 0; ow < hi - lo; ow++) Unsafe.Add(ref d, ow) = Unsafe.Add(ref src, ow * s);
                    }
                }
            }
        }
    }
}
