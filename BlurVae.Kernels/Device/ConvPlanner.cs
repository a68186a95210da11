namespace BlurVae.Kernels.Device;

/// <summary>The three passes of a convolution, each an implicit GEMM C[M, P] = A[M, K]·B[K, P] (kernels/conv_gemm.cuh).</summary>
public enum ConvPass
{
    Forward,
    BackwardInput,
    BackwardWeight,
}

/// <summary>The compiled tile shapes of kernels/conv.cuh (BM × BN; the K-step and thread count depend on the maths).</summary>
public enum ConvTile
{
    /// <summary>128 × 64: the big layers.</summary>
    Large,
    /// <summary>16 × 128: thin M (3 output channels).</summary>
    ThinM,
    /// <summary>64 × 32: small M or P (P = Cin·k² = 27 of a first layer's weight gradient).</summary>
    Small,
}

/// <summary>How one convolution pass runs: tile, maths and how many slices K is split into (1: no split-K).</summary>
public readonly record struct ConvAlgorithm(ConvTile Tile, MathPrecision Math, int Splits)
{
    public override string ToString() => $"{Math.Name()} {ConvShapes.TileName(Tile)}{(Splits > 1 ? $" split-K {Splits}" : "")}";
}

/// <summary>The GEMM dimensions of a pass and the tile constants of kernels/conv.cuh, in one place.</summary>
public static class ConvShapes
{
    public static string PassName(ConvPass pass) => pass switch
    {
        ConvPass.Forward => "forward",
        ConvPass.BackwardInput => "backward_input",
        _ => "backward_weight",
    };

    public static string TileName(ConvTile tile) => tile switch
    {
        ConvTile.Large => "128x64",
        ConvTile.ThinM => "16x128",
        _ => "64x32",
    };

    /// <summary>(BM, BN) of a tile.</summary>
    public static (int Rows, int Cols) TileSize(ConvTile tile) => tile switch
    {
        ConvTile.Large => (128, 64),
        ConvTile.ThinM => (16, 128),
        _ => (64, 32),
    };

    /// <summary>The K-step: 8 for the SIMT kernels, 16 (two m16n16k8 steps) for WMMA (ConvSimt/ConvWmma in conv.cuh).</summary>
    public static int TileK(MathPrecision math) => math == MathPrecision.Tf32 ? 16 : 8;

    /// <summary>Threads per block: 128, except the 128 × 64 WMMA tile's 8 warps.</summary>
    public static int Threads(ConvTile tile, MathPrecision math) => tile == ConvTile.Large && math == MathPrecision.Tf32 ? 256 : 128;

    public static string KernelName(ConvPass pass, ConvAlgorithm a) => $"conv2d_{PassName(pass)}_{a.Math.Name()}_{TileName(a.Tile)}_kernel";

    /// <summary>
    /// M, the largest phase's P and K, and the phase count of a pass. The backward input runs StrideH·StrideW phases
    /// (sub-pixel decomposition, <see cref="ConvPhases"/>, the rule the CPU backend runs too); the bounds here are
    /// the largest phase's (⌈H/s⌉ rows, ⌈KH/s⌉ taps).
    /// </summary>
    public static (int M, int P, int K, int Phases) Gemm(ConvPass pass, ConvGeometry g)
    {
        switch (pass)
        {
            case ConvPass.Forward:
                return (g.OutChannels, g.N * g.OutH * g.OutW, g.InChannels * g.KernelH * g.KernelW, 1);
            case ConvPass.BackwardInput:
                var (rows, cols, tapRows, tapCols) = ConvPhases.Largest(g);
                return (g.InChannels, g.N * rows * cols, g.OutChannels * tapRows * tapCols, ConvPhases.Count(g));
            default:
                return (g.OutChannels, g.InChannels * g.KernelH * g.KernelW, g.N * g.OutH * g.OutW, 1);
        }
    }

    /// <summary>Multiply-adds of any pass, N·Cout·OH·OW·Cin·KH·KW (the backward input's phases skip the structural zeros).</summary>
    public static long MultiplyAdds(ConvGeometry g) => (long)g.N * g.OutChannels * g.OutH * g.OutW * g.InChannels * g.KernelH * g.KernelW;
}

/// <summary>
/// The algorithm choice per layer shape, in one place (like cudnn.benchmark): <see cref="Heuristic"/> everywhere,
/// and on a real GPU <see cref="Candidates"/> timed once per shape by the device (GpuDevice.Conv.cs).
/// </summary>
public static class ConvPlanner
{
    /// <summary>The SM count the heuristic plans for when the device has none (the emulation): an H100 SXM's 132.</summary>
    public const int DefaultSmCount = 132;

    /// <summary>Split-K slices get at least this many K-steps each, so a slice's partial write stays a small cost.</summary>
    public const int MinStepsPerSplit = 8;

    public const int MaxSplits = 256;

    /// <summary>The split-K partials of one pass stay under this many floats (64 MiB).</summary>
    public const long MaxPartialFloats = 16L << 20;

    public static ConvAlgorithm Heuristic(ConvPass pass, ConvGeometry g, MathPrecision math, int smCount)
    {
        var (m, p, _, _) = ConvShapes.Gemm(pass, g);
        // Thin M: a 128-row tile would be ≥ 87 % padding for 3 output channels; small M or P: 64 × 32 keeps the
        // padding and the tile count reasonable where 128 × 64 would leave most SMs idle.
        var tile = m <= 16 ? ConvTile.ThinM : m >= 96 && p >= 48 ? ConvTile.Large : ConvTile.Small;
        return WithSplits(pass, g, tile, math, smCount);
    }

    /// <summary>
    /// Split-K where the output tile grid is under two waves of the SMs: enough slices to reach two waves, each with
    /// at least <see cref="MinStepsPerSplit"/> K-steps, at most <see cref="MaxSplits"/>.
    /// </summary>
    public static ConvAlgorithm WithSplits(ConvPass pass, ConvGeometry g, ConvTile tile, MathPrecision math, int smCount)
    {
        var (m, p, k, phases) = ConvShapes.Gemm(pass, g);
        var (bm, bn) = ConvShapes.TileSize(tile);
        long blocks = (long)((m + bm - 1) / bm) * ((p + bn - 1) / bn) * phases;
        int steps = (k + ConvShapes.TileK(math) - 1) / ConvShapes.TileK(math);
        int splits = 1;
        if (blocks > 0 && blocks < 2L * smCount)
            splits = (int)Math.Clamp(Math.Min(Math.Min((2L * smCount + blocks - 1) / blocks, steps / MinStepsPerSplit),
                                              MaxPartialFloats / Math.Max(1L, (long)phases * m * p)), 1, MaxSplits);
        return new ConvAlgorithm(tile, math, splits);
    }

    /// <summary>The algorithms a GPU times for a shape: every tile with its own split rule, the heuristic's first.</summary>
    public static IReadOnlyList<ConvAlgorithm> Candidates(ConvPass pass, ConvGeometry g, MathPrecision math, int smCount)
    {
        var first = Heuristic(pass, g, math, smCount);
        var list = new List<ConvAlgorithm> { first };
        foreach (var tile in Enum.GetValues<ConvTile>())
        {
            var a = WithSplits(pass, g, tile, math, smCount);
            if (!list.Contains(a)) list.Add(a);
            if (a.Splits > 1 && !list.Contains(a with { Splits = 1 })) list.Add(a with { Splits = 1 });
        }
        return list;
    }

    /// <summary>K per split slice: a multiple of the K-step, so slices start on step boundaries (conv_gemm's rule).</summary>
    public static int KPerSplit(int k, int splits, MathPrecision math)
    {
        int step = ConvShapes.TileK(math);
        int steps = (k + step - 1) / step;
        return Math.Max(1, (steps + splits - 1) / splits) * step;
    }
}
