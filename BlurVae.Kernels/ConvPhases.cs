namespace BlurVae.Kernels;

/// <summary>
/// One phase of the sub-pixel decomposition of a strided convolution's input gradient (and so of a transposed
/// convolution's forward pass), strides (sh, sw) and paddings (ph, pw) per axis. Phase (φh, φw) ∈ [0, sh) × [0, sw)
/// covers the input pixels ih = RowStart + sh·u (u &lt; Rows) with (ih + ph) mod sh = φh, and only the taps
/// i = φh + sh·t (t &lt; TapRows) reach them, through the output row oh = OutRow0 + u − t (columns likewise with sw, pw). Each phase is thus a dense stride-1 correlation of dy with
/// TapRows × TapCols taps: no multiply-add meets one of the structural zeros a zero-inserted dy would hold.
/// </summary>
public readonly record struct ConvPhase(
    int PhaseRow, int PhaseCol, int RowStart, int ColStart, int Rows, int Cols, int TapRows, int TapCols, int OutRow0, int OutCol0)
{
    public int Taps => TapRows * TapCols;
}

/// <summary>
/// The phase rule in one place: the CPU backend runs it (Cpu/CpuBackend.ConvPhased.cs), the device planner sizes
/// the launches by it (<c>ConvShapes.Gemm</c>), and kernels/conv_gemm.cuh's <c>conv_gemm_setup</c> (backward input)
/// is its device twin, computing the same fields per block.
/// </summary>
public static class ConvPhases
{
    public static int Count(ConvGeometry g) => g.StrideH * g.StrideW;

    /// <summary>Phase <paramref name="phase"/> = φh·sw + φw of g's backward-input pass.</summary>
    public static ConvPhase Of(ConvGeometry g, int phase)
    {
        int sh = g.StrideH, sw = g.StrideW;
        if ((uint)phase >= (uint)(sh * sw)) throw new ArgumentOutOfRangeException(nameof(phase), phase, $"a stride-({sh}, {sw}) convolution has {sh * sw} phases.");
        int ph = phase / sw, pw = phase % sw;
        int ih0 = Mod(ph - g.PaddingH, sh), iw0 = Mod(pw - g.PaddingW, sw);
        return new ConvPhase(ph, pw, ih0, iw0,
            Rows: CeilDiv(g.InH - ih0, sh), Cols: CeilDiv(g.InW - iw0, sw),
            TapRows: CeilDiv(g.KernelH - ph, sh), TapCols: CeilDiv(g.KernelW - pw, sw),
            // ih0 + pad − φ is a non-negative multiple of the stride: oh·s − pad + i = ih solved for oh at u = t = 0.
            OutRow0: (ih0 + g.PaddingH - ph) / sh, OutCol0: (iw0 + g.PaddingW - pw) / sw);
    }

    /// <summary>The largest phase's rows, columns and taps (each maximum over the phases; phase 0 holds the most taps).</summary>
    public static (int Rows, int Cols, int TapRows, int TapCols) Largest(ConvGeometry g)
    {
        int rows = 0, cols = 0, tapRows = 0, tapCols = 0;
        for (int i = 0; i < Count(g); i++)
        {
            var p = Of(g, i);
            rows = Math.Max(rows, p.Rows);
            cols = Math.Max(cols, p.Cols);
            tapRows = Math.Max(tapRows, p.TapRows);
            tapCols = Math.Max(tapCols, p.TapCols);
        }
        return (rows, cols, tapRows, tapCols);
    }

    private static int Mod(int a, int m) => (a % m + m) % m;

    private static int CeilDiv(int a, int b) => a <= 0 ? 0 : (a + b - 1) / b;
}
