using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/conv.cuh. Each pass is one implicit-GEMM launch of the kernel ConvAlgorithm names (tile ×
// maths), grid (⌈P/BN⌉, ⌈M/BM⌉, phases·splits); with split-K the last block of each tile sums the partial slices in
// a fixed order inside the same launch (a workspace from the cache, a persistent ticket counter per tile).
// The algorithm per shape comes from Plan: ConvPlanner's heuristic, or on a GPU the fastest candidate, timed once.
// With `statistics` (forward and backward input) the same launch also writes the output channels' batch statistics
// for the BatchNorm after the layer: per tile into a cached workspace, merged by the last tile of each row band
// (a ticket per band after the split-K tickets), so the BatchNorm needs no statistics launch.
public abstract partial class GpuDevice
{
    private readonly Dictionary<(ConvPass, ConvGeometry, MathPrecision), ConvAlgorithm> _convPlans = new();
    private readonly Lock _convPlansLock = new();

    /// <summary>
    /// The maths of convolutions (and, on a GPU, of cuBLAS GEMMs): <see cref="MathPrecision.Fp32"/> unless the
    /// application sets it (--precision; its default on GPUs is tf32).
    /// </summary>
    public virtual MathPrecision Precision { get; set; } = MathPrecision.Fp32;

    /// <summary>Receives one line per new convolution plan (shape → algorithm), e.g. for --verbose; null: silent.</summary>
    public Action<string>? PlanLog { get; set; }

    /// <summary>The SM count the convolution planner fills (the GPU's; <see cref="ConvPlanner.DefaultSmCount"/> under emulation).</summary>
    public virtual int SmCount => ConvPlanner.DefaultSmCount;

    /// <summary>
    /// Times <paramref name="candidates"/> (each run writes the pass's real output) and returns the fastest; null
    /// where the device cannot time (the emulation: its timings say nothing about a GPU).
    /// </summary>
    protected virtual ConvAlgorithm? TimeCandidates(IReadOnlyList<ConvAlgorithm> candidates, Action<ConvAlgorithm> run) => null;

    /// <summary>
    /// Every pass of a convolution touches an input-shaped, an output-shaped and a weight-shaped buffer (x or dx, y or
    /// dy, w or dw): the geometry must be valid and each buffer must hold its length, or a kernel would read past it.
    /// </summary>
    private void CheckConvOperands(ConvGeometry g, DeviceMemory input, string inputName, DeviceMemory output, string outputName, DeviceMemory weight, string weightName)
    {
        CheckConvGeometry(g);
        CheckBuffer(input, g.InputLength, inputName);
        CheckBuffer(output, g.OutputLength, outputName);
        CheckBuffer(weight, g.WeightLength, weightName);
    }

    /// <summary>
    /// y = conv(x, w) + bias (CpuBackend.Conv2dForward); <paramref name="bias"/> null for none; <paramref name="statistics"/>
    /// ([Cout, 2], null for none): each output channel's mean and centred sum of squares over N·OH·OW (IBackend.Conv2dForward).
    /// </summary>
    /// <param name="algorithm">Forces an algorithm (tests); null: the planned one.</param>
    public void Conv2dForward(DeviceMemory y, DeviceMemory x, DeviceMemory w, DeviceMemory? bias, ConvGeometry g, ConvAlgorithm? algorithm = null,
        DeviceMemory? statistics = null)
    {
        CheckConvOperands(g, x, nameof(x), y, nameof(y), w, nameof(w));
        if (bias is not null) CheckBuffer(bias, g.OutChannels, nameof(bias));
        if (statistics is not null) CheckBuffer(statistics, 2L * g.OutChannels, nameof(statistics));
        if (g.OutputLength == 0) return;
        RunConv(ConvPass.Forward, g, y, w, x, bias, algorithm, statistics);
    }

    /// <summary>
    /// dx = the gradient of the convolution with respect to its input (CpuBackend.Conv2dBackwardInput), + bias[ci]
    /// in the epilogue when given (ConvTranspose2d's forward); overwrites dx; <paramref name="statistics"/> ([Cin, 2]) as
    /// <see cref="Conv2dForward"/>'s, of dx.
    /// </summary>
    public void Conv2dBackwardInput(DeviceMemory dx, DeviceMemory dy, DeviceMemory w, ConvGeometry g, ConvAlgorithm? algorithm = null, DeviceMemory? bias = null,
        DeviceMemory? statistics = null)
    {
        CheckConvOperands(g, dx, nameof(dx), dy, nameof(dy), w, nameof(w));
        if (bias is not null) CheckBuffer(bias, g.InChannels, nameof(bias));
        if (statistics is not null) CheckBuffer(statistics, 2L * g.InChannels, nameof(statistics));
        if (g.InputLength == 0) return;
        RunConv(ConvPass.BackwardInput, g, dx, w, dy, bias, algorithm, statistics);
    }

    /// <summary>dw = the gradient of the convolution with respect to its weight (CpuBackend.Conv2dBackwardWeight without the bias); overwrites dw.</summary>
    public void Conv2dBackwardWeight(DeviceMemory dw, DeviceMemory dy, DeviceMemory x, ConvGeometry g, ConvAlgorithm? algorithm = null)
    {
        CheckConvOperands(g, x, nameof(x), dy, nameof(dy), dw, nameof(dw));
        if (g.WeightLength == 0) return;
        RunConv(ConvPass.BackwardWeight, g, dw, dy, x, null, algorithm);
    }

    /// <summary>
    /// db[co] = Σ dy[n, co, ·, ·] (the bias part of CpuBackend.Conv2dBackwardWeight): the two-level reduction of
    /// <see cref="SumToForward"/> over [n, cout, spatial] → [1, cout, 1], so it fills the GPU like every reduction.
    /// </summary>
    public void Conv2dBackwardBias(DeviceMemory db, DeviceMemory dy, ConvGeometry g, int blockSize = 256)
    {
        CheckConvGeometry(g);
        CheckBuffer(db, g.OutChannels, nameof(db));
        CheckBuffer(dy, g.OutputLength, nameof(dy));
        if (g.OutChannels == 0) return;
        SumToForward(db, [1, g.OutChannels, 1], dy, [g.N, g.OutChannels, g.OutH * g.OutW], blockSize);
    }

    /// <summary>The algorithm of a pass at the current precision: cached per shape; the first call plans (and on a GPU times).</summary>
    public ConvAlgorithm PlanConv(ConvPass pass, ConvGeometry g) => PlanConv(pass, g, null);

    private ConvAlgorithm PlanConv(ConvPass pass, ConvGeometry g, Action<ConvAlgorithm>? run)
    {
        var key = (pass, g, Precision);
        lock (_convPlansLock)
            if (_convPlans.TryGetValue(key, out var known)) return known;
        var chosen = ConvPlanner.Heuristic(pass, g, Precision, SmCount);
        string how = "heuristic";
        if (run is not null && TimeCandidates(ConvPlanner.Candidates(pass, g, Precision, SmCount), run) is { } fastest)
        {
            chosen = fastest;
            how = "timed";
        }
        lock (_convPlansLock) _convPlans[key] = chosen;
        PlanLog?.Invoke($"conv2d {ConvShapes.PassName(pass)} N={g.N} {g.InChannels}x{g.InH}x{g.InW} -> {g.OutChannels}x{g.OutH}x{g.OutW} " +
                        $"{g.KernelStridePadding}: {chosen} ({how}; {ConvLaunchSummary(pass, g, chosen)})");
        return chosen;
    }

    private void RunConv(ConvPass pass, ConvGeometry g, DeviceMemory output, DeviceMemory a, DeviceMemory b, DeviceMemory? bias, ConvAlgorithm? forced,
        DeviceMemory? statistics = null)
    {
        void Run(ConvAlgorithm alg) => LaunchConv(pass, g, alg, output, a, b, bias, statistics);
        var algorithm = forced ?? PlanConv(pass, g, Run);
        Run(algorithm); // also after timing, so the output is the chosen algorithm's (deterministic run to run)
    }

    /// <summary>The launch geometry of a pass: the GEMM grid (x, y, z), threads per block, split-K slices and K per slice.</summary>
    public static (Dim3 Grid, int Threads, int Splits, int KPerSplit) ConvLaunch(ConvPass pass, ConvGeometry g, ConvAlgorithm a)
    {
        if (a.Splits < 1) throw new ArgumentOutOfRangeException(nameof(a), a, "splits must be >= 1");
        var (m, p, k, phases) = ConvShapes.Gemm(pass, g);
        var (bm, bn) = ConvShapes.TileSize(a.Tile);
        int kPerSplit = ConvPlanner.KPerSplit(k, a.Splits, a.Math);
        int splits = Math.Max(1, (k + kPerSplit - 1) / kPerSplit); // slices that hold some K
        var grid = new Dim3((uint)((p + bn - 1) / bn), (uint)((m + bm - 1) / bm), (uint)(phases * splits));
        return (grid, ConvShapes.Threads(a.Tile, a.Math), splits, kPerSplit);
    }

    private static string ConvLaunchSummary(ConvPass pass, ConvGeometry g, ConvAlgorithm a)
    {
        var (grid, threads, splits, _) = ConvLaunch(pass, g, a);
        long blocks = (long)grid.X * grid.Y * grid.Z;
        return $"grid {grid.X}x{grid.Y}x{grid.Z} = {blocks} blocks of {threads}" + (splits > 1 ? $", split-K {splits}" : "");
    }

    private void LaunchConv(ConvPass pass, ConvGeometry g, ConvAlgorithm alg, DeviceMemory output, DeviceMemory a, DeviceMemory b, DeviceMemory? bias,
        DeviceMemory? statistics)
    {
        if (statistics is not null && pass == ConvPass.BackwardWeight)
            throw new ArgumentException("batch statistics belong to the forward and backward-input passes", nameof(statistics));
        var (grid, threads, splits, kPerSplit) = ConvLaunch(pass, g, alg);
        var (m, p, _, phases) = ConvShapes.Gemm(pass, g);
        string kernel = ConvShapes.KernelName(pass, alg);
        // Partial sums [phase][split][M][P]: every (m < M, p < P) of every slice is written before the tile's last
        // block reads them, so no zero-fill; one ticket counter per output tile of every phase.
        using var workspace = splits > 1 ? Allocate(checked(phases * splits * m * p), zeroed: false) : null;
        // Statistics partials [phase][tile column][M][2]: only the non-empty tiles' are written, and only those are read.
        using var statPartial = statistics is not null ? Allocate(checked(phases * (int)grid.X * m * 2), zeroed: false) : null;
        int tiles = checked(phases * (int)grid.X * (int)grid.Y);
        // Tickets: the split-K ones per tile, then (statistics) one per row band at tiles + blockIdx.y.
        int ticketCount = statistics is not null ? tiles + (int)grid.Y : splits > 1 ? tiles : 0;
        LaunchArg counters = ticketCount > 0 ? TicketCounters(ticketCount) : LaunchArg.PointerOrNull(null);
        Launch(kernel, grid, new Dim3((uint)threads), [output, LaunchArg.PointerOrNull(statistics), LaunchArg.PointerOrNull(workspace),
                                                       LaunchArg.PointerOrNull(statPartial), counters, a, b, LaunchArg.PointerOrNull(bias),
                                                       .. GeometryArgs(g), splits, kPerSplit, p]);
    }

    private static void CheckConvGeometry(ConvGeometry g)
    {
        if (g.N < 0 || g.InChannels < 0 || g.OutChannels < 0)
            throw new ArgumentOutOfRangeException(nameof(g), g, "batch and channel counts must be >= 0");
        if (g.InH < 1 || g.InW < 1 || g.KernelH < 1 || g.KernelW < 1 || g.OutH < 1 || g.OutW < 1)
            throw new ArgumentOutOfRangeException(nameof(g), g, "spatial and kernel sizes must be >= 1");
        if (g.StrideH < 1 || g.StrideW < 1 || g.PaddingH < 0 || g.PaddingW < 0)
            throw new ArgumentOutOfRangeException(nameof(g), g, "strides must be >= 1 and paddings >= 0");
        // The output size must be the one the input maps to (ConvGeometry.ForConv), or the kernels would read past x.
        if ((g.OutH - 1) * g.StrideH + g.KernelH > g.InH + 2 * g.PaddingH || (g.OutW - 1) * g.StrideW + g.KernelW > g.InW + 2 * g.PaddingW)
            throw new ArgumentException($"Output {g.OutH}x{g.OutW} does not fit a {g.InH}x{g.InW} input ({g.KernelStridePadding}).", nameof(g));
    }

    /// <summary>n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow: the geometry parameters of the conv kernels.</summary>
    private static LaunchArg[] GeometryArgs(ConvGeometry g) =>
        [g.N, g.InChannels, g.InH, g.InW, g.OutChannels, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PaddingH, g.PaddingW, g.OutH, g.OutW];
}
