namespace BlurVae.Kernels.Cpu;

/// <summary>How a stride-s (s > 1) input gradient — and so a transposed convolution — runs on the CPU.</summary>
public enum StridedInputGradientPath
{
    /// <summary>
    /// The measured faster path for every shape: today GEMM + col2im (col2im summing by phases, CpuBackend.Col2Im.cs,
    /// on even sides by shifted vectors, CpuBackend.Col2Im.Shifted.cs),
    /// which beat the phase GEMMs on every stride-2 layer of both configs (BlurVae.Bench conv, docs/benchmarks.md).
    /// </summary>
    Auto,
    /// <summary>Always by phases (ConvPhases).</summary>
    Phases,
    /// <summary>Always GEMM into a column matrix, then col2im (the stride-1 path).</summary>
    Col2Im,
}

// The input gradient of a stride-s convolution (= the forward pass of a transposed convolution) by phases, the rule
// of BlurVae.Kernels/ConvPhases.cs that the CUDA kernels run too: s² dense stride-1 correlations, each a GEMM
//   C_φ[ci, (n, u, v)] = A_φ[ci, (co, t, r)] · B_φ[(co, t, r), (n, u, v)],
//   A_φ = w[co, ci, φh + s·t, φw + s·r],  B_φ = dy[n, co, OutRow0 + u − t, OutCol0 + v − r] (0 outside),
// whose result lands on the input pixels (RowStart + s·u, ColStart + s·v). Every dx element is written exactly once
// (the phases partition the input), so nothing is cleared first and nothing is read back. Work items are
// (image chunk, phase) pairs; each runs gather → single-thread GEMM → scatter while its columns are still in cache.
//
// Neither path multiplies a structural zero: the col2im path's GEMM Wᵀ·dy is dense too (the zeros of a zero-inserted
// dy never exist there); it differs in memory traffic: a column matrix Cin·k² rows tall that col2im sums by phases
// (each dx pixel gathers its k²/s² taps and is stored once, CpuBackend.Col2Im.cs), against phases' gathered B_φ
// (Cout·k²/s² rows per phase: Cout/Cin times the column matrix, 1–2× on these layers), a
// GEMM whose M is Cin alone, and a strided scatter. Measured on the step's shapes (BlurVae.Bench conv, both in one
// run, 2-core AVX-512 Xeon) col2im won on every stride-2 layer of both configs, k3 and k4, 2×2 to 64×64 (phases
// took 1.1–1.6× its time), so Auto never takes phases; the phase path stays selectable for that comparison.
public sealed partial class CpuBackend
{
    /// <summary>The path of stride-s input gradients (Auto by default; the others for tests and BlurVae.Bench conv).</summary>
    public static StridedInputGradientPath StridedInputGradient { get; set; } = StridedInputGradientPath.Auto;

    // The one choice rule. Per-axis strides or paddings (Inception's) always take GEMM + col2im: the phased CPU path
    // is written for one stride.
    internal static bool UsesPhases(ConvGeometry g) => g.IsUniform && g.Stride > 1 && StridedInputGradient switch
    {
        StridedInputGradientPath.Phases => true,
        _ => false, // Auto: col2im measured faster on every shape (see above); Col2Im: asked for
    };

    private static partial class Conv<T>
    {
        // statistics: dx's batch statistics, one part per (chunk, phase) work item (OutputStatistics); bias: the one the caller adds afterwards.
        private static void BackwardInputByPhases(T[] dx, T[] dy, T[] w, ConvGeometry g, T[]? statistics = null, T[]? bias = null)
        {
            int phaseCount = ConvPhases.Count(g);
            var phases = new ConvPhase[phaseCount];
            for (int i = 0; i < phaseCount; i++) phases[i] = ConvPhases.Of(g, i);
            var (rows, cols, tapRows, tapCols) = ConvPhases.Largest(g);
            int maxK = g.OutChannels * tapRows * tapCols;
            int pixels = rows * cols; // the largest phase's columns per image
            // A_φ for every phase, [Cin, K_φ] at offset φ·Cin·maxK.
            T[] a = System.Buffers.ArrayPool<T>.Shared.Rent(phaseCount * g.InChannels * maxK);
            try
            {
                for (int i = 0; i < phaseCount; i++) PackPhaseWeights(a, i * g.InChannels * maxK, w, g, phases[i]);
                int cb = PhaseChunkImages(maxK, pixels, g.N);
                int chunks = (g.N + cb - 1) / cb;
                int scratch = (maxK + g.InChannels) * cb * pixels;
                using var stats = OutputStatistics.For(statistics, chunks * phaseCount, g.InChannels);
                ForChunks(chunks * phaseCount, scratch, (item, buffer) =>
                {
                    int chunk = item / phaseCount, phase = item % phaseCount;
                    int n0 = chunk * cb, nb = Math.Min(cb, g.N - n0);
                    var ph = phases[phase];
                    int k = g.OutChannels * ph.Taps, columns = nb * ph.Rows * ph.Cols;
                    if (columns == 0) return;
                    int cOff = maxK * cb * pixels;
                    if (k == 0) Array.Clear(buffer, cOff, g.InChannels * columns); // no tap reaches this phase (kernel < stride)
                    else
                    {
                        for (int co = 0; co < g.OutChannels; co++)
                            for (int t = 0; t < ph.TapRows; t++)
                                for (int r = 0; r < ph.TapCols; r++)
                                    GatherPhaseRow(buffer, ((co * ph.TapRows + t) * ph.TapCols + r) * columns, dy, n0, nb, g, ph, co, t, r);
                        GemmT(false, false, g.InChannels, columns, k, a, phase * g.InChannels * maxK, k, buffer, 0, columns, buffer, cOff, columns, 1);
                    }
                    stats?.AddChannelMajor(item, buffer, cOff, columns, columns);
                    ScatterPhase(dx, buffer, cOff, n0, nb, g, ph);
                });
                stats?.Finish(statistics!, bias);
            }
            finally
            {
                System.Buffers.ArrayPool<T>.Shared.Return(a);
            }
        }

        // Images per work item: the gathered B_φ of a chunk fits the per-core cache, with at least MinChunkColumns columns.
        private static int PhaseChunkImages(int k, int pixels, int n)
        {
            long perImage = Math.Max(1L, (long)k * pixels * Unsafe.SizeOf<T>());
            int byCache = (int)Math.Max(1, ChunkColumnBytes / perImage);
            int byWidth = (MinChunkColumns + pixels - 1) / Math.Max(1, pixels);
            return Math.Max(1, Math.Min(n, Math.Max(byCache, byWidth)));
        }

        // a[off + ci·K + (co·TapRows + t)·TapCols + r] = w[co, ci, φh + s·t, φw + s·r], K = Cout·TapRows·TapCols.
        private static void PackPhaseWeights(T[] a, int off, T[] w, ConvGeometry g, ConvPhase ph)
        {
            int k = g.OutChannels * ph.Taps, s = g.Stride;
            for (int ci = 0; ci < g.InChannels; ci++)
                for (int co = 0; co < g.OutChannels; co++)
                {
                    int wBase = (co * g.InChannels + ci) * g.KernelH * g.KernelW;
                    for (int t = 0; t < ph.TapRows; t++)
                        for (int r = 0; r < ph.TapCols; r++)
                            a[off + ci * k + (co * ph.TapRows + t) * ph.TapCols + r] = w[wBase + (ph.PhaseRow + s * t) * g.KernelW + ph.PhaseCol + s * r];
                }
        }

        // Row (co, t, r) of B_φ for images n0 … n0+nb−1: b[off + (n − n0)·U·V + u·V + v] = dy[n, co, OutRow0 + u − t, OutCol0 + v − r] (0 outside).
        // Plain element loops: the deep layers' phases are 2–4 columns wide, where span slicing would cost more than the copy.
        private static void GatherPhaseRow(T[] b, int off, T[] dy, int n0, int nb, ConvGeometry g, ConvPhase ph, int co, int t, int r)
        {
            int c0 = ph.OutCol0 - r; // dy column of v = 0
            int lo = Math.Clamp(-c0, 0, ph.Cols), hi = Math.Clamp(g.OutW - c0, lo, ph.Cols);
            int plane = g.OutH * g.OutW;
            ref T dst = ref b[off];
            for (int ni = 0; ni < nb; ni++)
            {
                int src = ((n0 + ni) * g.OutChannels + co) * plane;
                for (int u = 0; u < ph.Rows; u++, dst = ref Unsafe.Add(ref dst, ph.Cols))
                {
                    int oh = ph.OutRow0 + u - t;
                    int a = lo, e = hi;
                    if ((uint)oh >= (uint)g.OutH) a = e = ph.Cols;
                    for (int v = 0; v < a; v++) Unsafe.Add(ref dst, v) = T.Zero;
                    if (e > a)
                    {
                        ref T s = ref dy[src + oh * g.OutW + c0 + a];
                        for (int v = a; v < e; v++) Unsafe.Add(ref dst, v) = Unsafe.Add(ref s, v - a);
                    }
                    for (int v = Math.Max(a, e); v < ph.Cols; v++) Unsafe.Add(ref dst, v) = T.Zero;
                }
            }
        }

        // dx[n, ci, RowStart + s·u, ColStart + s·v] = c[cOff + ci·(nb·U·V) + (n − n0)·U·V + u·V + v].
        private static void ScatterPhase(T[] dx, T[] c, int cOff, int n0, int nb, ConvGeometry g, ConvPhase ph)
        {
            int s = g.Stride, columns = nb * ph.Rows * ph.Cols, plane = g.InH * g.InW;
            for (int ci = 0; ci < g.InChannels; ci++)
                for (int ni = 0; ni < nb; ni++)
                {
                    int dstPlane = ((n0 + ni) * g.InChannels + ci) * plane;
                    for (int u = 0; u < ph.Rows; u++)
                    {
                        ref T src = ref c[cOff + ci * columns + (ni * ph.Rows + u) * ph.Cols];
                        ref T dst = ref dx[dstPlane + (ph.RowStart + s * u) * g.InW + ph.ColStart];
                        for (int v = 0; v < ph.Cols; v++) Unsafe.Add(ref dst, s * v) = Unsafe.Add(ref src, v);
                    }
                }
        }
    }
}
