namespace BlurVae.Kernels;

/// <summary>What a pooling window computes: its maximum or its mean.</summary>
public enum PoolMode
{
    Max,
    Average,
}

/// <summary>
/// Geometry of 2-D pooling over planes x[planes, inH, inW] → y[planes, outH, outW] (planes = N·C), in PyTorch's
/// semantics: fixed windows (kernel, stride and padding per axis, floor mode, as max_pool2d / avg_pool2d) or adaptive
/// ones (adaptive_avg_pool2d / adaptive_max_pool2d: output o of an axis of length n → m covers
/// [⌊o·n/m⌋, ⌈(o+1)·n/m⌉)). An average divides by the window's area including the zero padding when
/// <see cref="CountIncludePad"/> (avg_pool2d's default; the window is clipped at n + padding first), else by the
/// pixels inside the input (Inception's FID blocks). Padding never wins a maximum.
/// The rule lives in <see cref="Window"/>; kernels/pool.cuh mirrors it in pool_window.
/// </summary>
public readonly record struct PoolGeometry(
    PoolMode Mode, int Planes, int InH, int InW, int OutH, int OutW,
    int KernelH, int KernelW, int StrideH, int StrideW, int PaddingH, int PaddingW,
    bool CountIncludePad, bool Adaptive)
{
    /// <summary>Fixed windows; the output size is PyTorch's floor formula (in + 2p − k)/s + 1.</summary>
    public static PoolGeometry ForPool(PoolMode mode, int planes, int inH, int inW, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool countIncludePad = true)
    {
        CheckAxis(kernel.H, stride.H, padding.H);
        CheckAxis(kernel.W, stride.W, padding.W);
        int outH = (inH + 2 * padding.H - kernel.H) / stride.H + 1, outW = (inW + 2 * padding.W - kernel.W) / stride.W + 1;
        if (inH < 1 || inW < 1 || inH + 2 * padding.H < kernel.H || inW + 2 * padding.W < kernel.W)
            throw new ArgumentException($"Pooling a {inH}x{inW} input with a {kernel.H}x{kernel.W} window (padding {padding.H},{padding.W}) has no output.");
        return new PoolGeometry(mode, planes, inH, inW, outH, outW, kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, countIncludePad, false);
    }

    /// <summary>Adaptive windows onto an outH × outW output (any output size ≥ 1; windows overlap when it does not divide).</summary>
    public static PoolGeometry ForAdaptive(PoolMode mode, int planes, int inH, int inW, int outH, int outW)
    {
        if (inH < 1 || inW < 1 || outH < 1 || outW < 1)
            throw new ArgumentException($"Adaptive pooling needs input and output sizes ≥ 1 (got {inH}x{inW} → {outH}x{outW}).");
        return new PoolGeometry(mode, planes, inH, inW, outH, outW, 0, 0, 0, 0, 0, 0, false, true);
    }

    private static void CheckAxis(int kernel, int stride, int padding)
    {
        if (kernel < 1 || stride < 1) throw new ArgumentOutOfRangeException(nameof(kernel), $"pooling kernel and stride must be >= 1 (got {kernel}, {stride})");
        // PyTorch's rule: a window of only padding would have no input pixel.
        if (padding < 0 || padding > kernel / 2) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"padding must be between 0 and half the kernel ({kernel / 2})");
    }

    public int InputLength => Planes * InH * InW;
    public int OutputLength => Planes * OutH * OutW;

    /// <summary>
    /// Output o's window along one axis (input length n, output length m): the input pixels [Start, End) it covers and
    /// the extent an average that counts padding divides by.
    /// </summary>
    public (int Start, int End, int Extent) Window(int o, bool rows)
    {
        int n = rows ? InH : InW, m = rows ? OutH : OutW;
        if (Adaptive)
        {
            int a = (int)((long)o * n / m), b = (int)(((long)(o + 1) * n + m - 1) / m);
            return (a, b, b - a);
        }
        int k = rows ? KernelH : KernelW, s = rows ? StrideH : StrideW, p = rows ? PaddingH : PaddingW;
        int start = o * s - p, end = Math.Min(start + k, n + p);
        return (Math.Max(start, 0), Math.Min(end, n), end - start);
    }

    /// <summary>"k3x3 s2,2 p0,0" (or "adaptive"), max or average, for check names.</summary>
    public string Describe => (Mode == PoolMode.Max ? "max " : CountIncludePad ? "avg " : "avg (no pad count) ")
        + (Adaptive ? $"adaptive {InH}x{InW} → {OutH}x{OutW}" : $"k{KernelH}x{KernelW} s{StrideH},{StrideW} p{PaddingH},{PaddingW} {InH}x{InW} → {OutH}x{OutW}");
}
