using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/pool.cuh (2-D max and average pooling, fixed or adaptive windows): one thread per output
// element in the forward, one per input element in the backward (a gather over the windows that hold it, no atomics).
public abstract partial class GpuDevice
{
    /// <summary>y[planes, outH, outW] = the pooling of x[planes, inH, inW] that g describes.</summary>
    public void Pool2dForward(DeviceMemory y, DeviceMemory x, PoolGeometry g, int blockSize = 256)
    {
        CheckPool(g, blockSize);
        CheckBuffer(y, g.OutputLength, nameof(y));
        CheckBuffer(x, g.InputLength, nameof(x));
        if (g.OutputLength == 0) return;
        Launch("pool2d_forward_kernel", GridFor(g.OutputLength, blockSize), new Dim3((uint)blockSize), [y, x, .. PoolArgs(g)]);
    }

    /// <summary>dx[planes, inH, inW] from dy (and x, whose maxima receive a max pool's gradient).</summary>
    public void Pool2dBackward(DeviceMemory dx, DeviceMemory dy, DeviceMemory x, PoolGeometry g, int blockSize = 256)
    {
        CheckPool(g, blockSize);
        CheckBuffer(dx, g.InputLength, nameof(dx));
        CheckBuffer(dy, g.OutputLength, nameof(dy));
        CheckBuffer(x, g.InputLength, nameof(x));
        if (g.InputLength == 0) return;
        Launch("pool2d_backward_kernel", GridFor(g.InputLength, blockSize), new Dim3((uint)blockSize), [dx, dy, x, .. PoolArgs(g)]);
    }

    private static void CheckPool(PoolGeometry g, int blockSize)
    {
        CheckBlockSize(blockSize);
        if (g.Planes < 0 || g.InH < 1 || g.InW < 1 || g.OutH < 1 || g.OutW < 1)
            throw new ArgumentOutOfRangeException(nameof(g), g, "planes must be >= 0 and every size >= 1");
        if ((long)g.Planes * Math.Max(g.InH * g.InW, g.OutH * g.OutW) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(g), g, $"pooling of more than {int.MaxValue} elements");
        // The output size must be the one PoolGeometry derives, or windows would reach past the input.
        var expected = g.Adaptive
            ? PoolGeometry.ForAdaptive(g.Mode, g.Planes, g.InH, g.InW, g.OutH, g.OutW)
            : PoolGeometry.ForPool(g.Mode, g.Planes, g.InH, g.InW, (g.KernelH, g.KernelW), (g.StrideH, g.StrideW), (g.PaddingH, g.PaddingW), g.CountIncludePad);
        if (expected != g) throw new ArgumentException($"Inconsistent pooling geometry {g} (expected {expected}).", nameof(g));
    }

    /// <summary>planes, in_h, in_w, out_h, out_w, k_h, k_w, s_h, s_w, p_h, p_w, mode, count_include_pad, adaptive.</summary>
    private static LaunchArg[] PoolArgs(PoolGeometry g) =>
        [g.Planes, g.InH, g.InW, g.OutH, g.OutW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PaddingH, g.PaddingW,
         g.Mode == PoolMode.Max ? 0 : 1, g.CountIncludePad ? 1 : 0, g.Adaptive ? 1 : 0];
}
