using System.Buffers;
using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// 2-D convolution as im2col + GEMM, except for the thin layers DirectConv handles. The batch is split into chunks of
// images whose column matrix fits the core's cache (see Conv<T>.ChunkPlan); where that would leave fewer than two
// chunks (the deep layers of a VAE encoder, with only 2×2 or 4×4 outputs per image) one GEMM of
// [Cout, Cin·k²]·[Cin·k², N·OH·OW] over the whole batch keeps the GEMM wide enough for the SIMD micro-kernel.
// The forward and weight-gradient passes never store the column matrix: the GEMM packs its panels straight from
// the input (CpuBackend.Conv.Im2Col.cs) and reads dy / writes y in their own layout (Gemm.Sourced.cs).
public sealed partial class CpuBackend
{
    public void Conv2dForward(BackendBuffer y, BackendBuffer x, BackendBuffer w, BackendBuffer? bias, ConvGeometry g, BackendBuffer? statistics = null)
    {
        ShapeRules.Conv(g, x, w, y, bias);
        if (statistics is not null) ShapeRules.Length(statistics, 2L * g.OutChannels, nameof(statistics));
        if (IsF32(x)) Conv<float>.Forward(Arr<float>(y), Arr<float>(x), Arr<float>(w), ArrOrNull<float>(bias), g, ArrOrNull<float>(statistics));
        else Conv<double>.Forward(Arr<double>(y), Arr<double>(x), Arr<double>(w), ArrOrNull<double>(bias), g, ArrOrNull<double>(statistics));
    }

    public void Conv2dBackwardInput(BackendBuffer dx, BackendBuffer dy, BackendBuffer w, ConvGeometry g, BackendBuffer? bias = null, BackendBuffer? statistics = null)
    {
        ShapeRules.Conv(g, dx, w, dy, null);
        if (bias is not null) ShapeRules.Length(bias, g.InChannels, "bias");
        if (statistics is not null) ShapeRules.Length(statistics, 2L * g.InChannels, nameof(statistics));
        if (IsF32(dy))
        {
            Conv<float>.BackwardInput(Arr<float>(dx), Arr<float>(dy), Arr<float>(w), g, ArrOrNull<float>(statistics), ArrOrNull<float>(bias));
            if (bias is not null) Conv<float>.AddChannelBias(Arr<float>(dx), Arr<float>(bias), g.N, g.InChannels, g.InH * g.InW);
        }
        else
        {
            Conv<double>.BackwardInput(Arr<double>(dx), Arr<double>(dy), Arr<double>(w), g, ArrOrNull<double>(statistics), ArrOrNull<double>(bias));
            if (bias is not null) Conv<double>.AddChannelBias(Arr<double>(dx), Arr<double>(bias), g.N, g.InChannels, g.InH * g.InW);
        }
    }

    public void Conv2dBackwardWeight(BackendBuffer dw, BackendBuffer? dbias, BackendBuffer dy, BackendBuffer x, ConvGeometry g)
    {
        ShapeRules.Conv(g, x, dw, dy, dbias);
        if (IsF32(dy)) Conv<float>.BackwardWeight(Arr<float>(dw), ArrOrNull<float>(dbias), Arr<float>(dy), Arr<float>(x), g);
        else Conv<double>.BackwardWeight(Arr<double>(dw), ArrOrNull<double>(dbias), Arr<double>(dy), Arr<double>(x), g);
    }

    /// <summary>How the im2col passes cut the batch (for tests): the number of image chunks, or 0 for one whole-batch GEMM.</summary>
    internal static int ImageChunks(ConvGeometry g, DType dtype) => dtype == DType.Float64 ? Conv<double>.ImageChunks(g) : Conv<float>.ImageChunks(g);

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
        /// (fewer than two chunks). A chunk's column matrix [Kdim, Images·Spatial] has <see cref="ColumnLength"/> elements
        /// (the backward-input pass's scratch; the other two never store it).
        /// </summary>
        private readonly record struct ChunkPlan(int N, int Kdim, int Spatial, int Images)
        {
            public static ChunkPlan Of(ConvGeometry g)
            {
                int kdim = g.InChannels * g.KernelH * g.KernelW;
                int spatial = g.OutH * g.OutW;
                long perImage = (long)kdim * spatial * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                int byCache = (int)Math.Max(1, ChunkColumnBytes / Math.Max(1, perImage));
                int byWidth = (MinChunkColumns + spatial - 1) / spatial;
                int cb = Math.Min(g.N, Math.Max(byCache, byWidth));
                return new ChunkPlan(g.N, kdim, spatial, (g.N + cb - 1) / cb >= 2 ? cb : 0);
            }

            public int Chunks => (N + Images - 1) / Images;
            public int ColumnLength => Images * Kdim * Spatial;
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

        public static int ImageChunks(ConvGeometry g)
        {
            var plan = ChunkPlan.Of(g);
            return plan.Images > 0 ? plan.Chunks : 0;
        }

        // statistics (null: none): the output's batch statistics, OutputStatistics (CpuBackend.ConvStatistics.cs).
        public static void Forward(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g, T[]? statistics = null)
        {
            if (DirectConv<T>.Suits(g))
            {
                DirectConv<T>.Forward(y, x, w, bias, g);
                WholeOutputStatistics(statistics, y, g.N, g.OutChannels, g.OutH * g.OutW);
                return;
            }
            var plan = ChunkPlan.Of(g);
            int kdim = plan.Kdim, spatial = plan.Spatial, cout = g.OutChannels;
            // [Cout, kdim] · Col[kdim, images·S] → y[images, Cout, S] (C's columns in one segment per image), + bias.
            var yLayout = SegmentedLayout.Planes(cout, spatial);
            using var src = ColumnSource.Of(x, g);
            if (plan.Images > 0)
            {
                using var stats = OutputStatistics.For(statistics, plan.Chunks, cout);
                using var packedW = PackedA<T>.Of(cout, kdim, w, kdim, transA: false); // once, not once per chunk
                ForChunks(plan.Chunks, 0, (chunk, _) =>
                {
                    var (n0, nb, cols) = plan.Chunk(chunk);
                    Cpu.Gemm.Sourced<T>(cout, cols, kdim, w, SegmentedLayout.Dense(kdim), src.Col, (0, n0 * spatial),
                        y.AsSpan(n0 * cout * spatial, nb * cout * spatial), yLayout, T.Zero, bias, 1, packedA: packedW);
                    // Images n0 … n0+nb−1 of y are complete (bias included): their statistics while they are in cache.
                    stats?.AddImages(chunk, y, n0, nb, spatial);
                });
                stats?.Finish(statistics!, null); // the chunks saw y with its bias
                return;
            }
            Cpu.Gemm.Sourced<T>(cout, plan.AllColumns, kdim, w, SegmentedLayout.Dense(kdim), src.Col, (0, 0),
                y, yLayout, T.Zero, bias, Parallelism.MaxThreads);
            // Images 0 … N−1 of y are complete.
            WholeOutputStatistics(statistics, y, g.N, cout, spatial);
        }

        // statistics (null: none): dx's batch statistics (OutputStatistics), with the bias the caller adds to dx afterwards.
        public static void BackwardInput(T[] dx, T[] dy, T[] w, ConvGeometry g, T[]? statistics = null, T[]? bias = null)
        {
            if (DirectConv<T>.SuitsBackwardInput(g))
            {
                DirectConv<T>.BackwardInput(dx, dy, w, g);
                WholeOutputStatistics(statistics, dx, g.N, g.InChannels, g.InH * g.InW, bias);
                return;
            }
            if (UsesPhases(g))
            {
                BackwardInputByPhases(dx, dy, w, g, statistics, bias);
                return;
            }
            var plan = ChunkPlan.Of(g);
            int kdim = plan.Kdim, spatial = plan.Spatial, cout = g.OutChannels;
            var col2im = Col2ImPlan.Of(g);
            // wᵀ [kdim, Cout] · dy read as [Cout, images·S] (ChannelMajorPanels) → dcol [kdim, images·S] → col2im.
            using var dyColumns = new ChannelMajorPanels(dy, g.N, cout, spatial);
            if (plan.Images > 0)
            {
                using var stats = OutputStatistics.For(statistics, plan.Chunks, g.InChannels);
                using var packedW = PackedA<T>.Of(kdim, cout, w, kdim, transA: true); // once, not once per chunk
                ForChunks(plan.Chunks, plan.ColumnLength, (chunk, scratch) =>
                {
                    var (n0, nb, cols) = plan.Chunk(chunk);
                    Cpu.Gemm.Sourced<T>(kdim, cols, cout, w, SegmentedLayout.Dense(kdim), dyColumns, (0, n0 * spatial),
                        scratch, SegmentedLayout.Dense(cols), T.Zero, default, 1, transA: true, packedA: packedW);
                    for (int ci = 0; ci < g.InChannels; ci++) Col2ImChannel(dx, scratch, n0, nb, g, ci, col2im);
                    // Images n0 … n0+nb−1 of dx are complete here: their statistics while they are in cache.
                    stats?.AddImages(chunk, dx, n0, nb, g.InH * g.InW);
                });
                stats?.Finish(statistics!, bias);
                return;
            }
            int allCols = plan.AllColumns;
            T[] dcol = ArrayPool<T>.Shared.Rent(kdim * allCols);
            try
            {
                Cpu.Gemm.Sourced<T>(kdim, allCols, cout, w, SegmentedLayout.Dense(kdim), dyColumns, (0, 0),
                    dcol, SegmentedLayout.Dense(allCols), T.Zero, default, Parallelism.MaxThreads, transA: true);
                if (col2im is { ByChannel: true })
                    Parallelism.ForEach(g.InChannels, (long)kdim / g.InChannels * allCols, ci => Col2ImChannel(dx, dcol, 0, g.N, g, ci, col2im));
                else
                    Parallelism.ForEach(g.N * g.InChannels, (long)kdim / g.InChannels * spatial, nc => Col2ImPlane(dx, dcol, 0, g.N, g, nc, col2im));
                // All images of dx are complete here.
                WholeOutputStatistics(statistics, dx, g.N, g.InChannels, g.InH * g.InW, bias);
            }
            finally
            {
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
            int kdim = plan.Kdim, spatial = plan.Spatial, cout = g.OutChannels;
            // dy[images, Cout, S] read as A [Cout, images·S] (one segment per image) · Colᵀ[images·S, kdim] → [Cout, kdim].
            var dyLayout = SegmentedLayout.Planes(cout, spatial);
            using var src = ColumnSource.Of(x, g);
            if (plan.Images > 0)
            {
                int chunks = plan.Chunks;
                int groups = Math.Min(WeightGroups, chunks);
                int wlen = cout * kdim;
                T[] partials = ArrayPool<T>.Shared.Rent(groups * wlen);
                try
                {
                    // Group grp sums its run of chunks into its own partial (the first chunk overwrites it).
                    ForChunkRuns(chunks, groups, (long)chunks * plan.ColumnLength / groups, 0, (grp, chunk, first, _) =>
                    {
                        var (n0, nb, cols) = plan.Chunk(chunk);
                        Cpu.Gemm.Sourced<T>(cout, kdim, cols, dy.AsSpan(n0 * cout * spatial, nb * cout * spatial), dyLayout,
                            src.ColT, (n0 * spatial, 0), partials.AsSpan(grp * wlen, wlen), SegmentedLayout.Dense(kdim),
                            first ? T.Zero : T.One, default, 1);
                    });
                    partials.AsSpan(0, wlen).CopyTo(dw);
                    for (int grp = 1; grp < groups; grp++) TensorPrimitives.Add(dw, partials.AsSpan(grp * wlen, wlen), dw);
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(partials);
                }
            }
            else
            {
                Cpu.Gemm.Sourced<T>(cout, kdim, plan.AllColumns, dy, dyLayout, src.ColT, (0, 0), dw,
                    SegmentedLayout.Dense(kdim), T.Zero, default, Parallelism.MaxThreads);
            }
            if (dbias is not null) BiasGradient(dbias, dy, g.N, cout, spatial);
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
                T[] scratch = ArrayPool<T>.Shared.Rent(scratchLength); // length 0: the empty array, as in ForChunks
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

        // The outputs ow ∈ [lo, hi) whose tap at column offset iw0 (= j − p) reads inside a row of width inW.
        private static (int Lo, int Hi) ValidColumns(int iw0, int stride, int outW, int inW)
        {
            int lo = Math.Min(outW, Math.Max(0, (-iw0 + stride - 1) / stride));
            int last = inW - 1 - iw0; // the last output reading inside the row is last / stride (none when last < 0)
            int hi = last < 0 ? lo : Math.Max(lo, Math.Min(outW, last / stride + 1));
            return (lo, hi);
        }
    }
}
