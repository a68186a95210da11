using BlurVae.Native;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Device;

// Launchers of sum_to_forward_kernel, broadcast_to_forward_kernel and copy_axis_slice_kernel (kernels/reduce.cuh):
// one thread per output element.
public abstract partial class GpuDevice
{
    /// <summary>y = x summed over every axis where yShape has 1 and xShape not; same rank (as CpuBackend.SumTo).</summary>
    public void SumToForward(DeviceMemory y, int[] yShape, DeviceMemory x, int[] xShape, int blockSize = 256)
    {
        ArgumentNullException.ThrowIfNull(yShape);
        ArgumentNullException.ThrowIfNull(xShape);
        if (xShape.Length != yShape.Length) throw new ArgumentException($"xShape has rank {xShape.Length}, yShape {yShape.Length}.", nameof(xShape));
        CheckBlockSize(blockSize);
        long ny = ShapeLength(yShape, nameof(yShape)), nx = ShapeLength(xShape, nameof(xShape));
        CheckBuffer(y, ny, nameof(y));
        CheckBuffer(x, nx, nameof(x));
        if (ny == 0) return;
        // x is the full shape; y's "broadcast" axes are the reduced ones (the check that y broadcasts to x included).
        var (shape, reduced, _) = Shapes.Coalesce(xShape, yShape, yShape);
        int[] e = PadExtents(shape);
        int mask = 0;
        long nr = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (!reduced[i]) continue;
            mask |= 1 << (MaxBroadcastRank - shape.Length + i);
            nr *= shape[i];
        }
        Launch("sum_to_forward_kernel", GridFor((int)ny, blockSize), new Dim3((uint)blockSize), y, x, (int)ny, (int)nr, mask,
               e[0], e[1], e[2], e[3], e[4], e[5]);
    }

    /// <summary>y = x repeated along every axis where xShape has 1 and yShape not; same rank (as CpuBackend.BroadcastTo).</summary>
    public void BroadcastToForward(DeviceMemory y, int[] yShape, DeviceMemory x, int[] xShape, int blockSize = 256)
    {
        ArgumentNullException.ThrowIfNull(yShape);
        ArgumentNullException.ThrowIfNull(xShape);
        if (xShape.Length != yShape.Length) throw new ArgumentException($"xShape has rank {xShape.Length}, yShape {yShape.Length}.", nameof(xShape));
        CheckBlockSize(blockSize);
        long n = ShapeLength(yShape, nameof(yShape));
        CheckBuffer(y, n, nameof(y));
        CheckBuffer(x, ShapeLength(xShape, nameof(xShape)), nameof(x));
        if (n == 0) return;
        var (shape, broadcast, _) = Shapes.Coalesce(yShape, xShape, xShape);
        int[] d = PadExtents(shape);
        int[] s = PadStrides(shape, broadcast);
        Launch("broadcast_to_forward_kernel", GridFor((int)n, blockSize), new Dim3((uint)blockSize), y, x, (int)n,
               d[0], d[1], d[2], d[3], d[4], d[5], s[0], s[1], s[2], s[3], s[4], s[5]);
    }

    /// <summary>
    /// Viewing dst as [outer, dstAxis, inner] and src as [outer, srcAxis, inner]:
    /// dst[o, dstStart + i, :] (+)= src[o, srcStart + i, :] for i &lt; length (as CpuBackend.CopyAxisSlice).
    /// </summary>
    public void CopyAxisSlice(DeviceMemory dst, int dstAxis, int dstStart, DeviceMemory src, int srcAxis, int srcStart,
                              int outer, int length, int inner, bool accumulate, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outer);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(inner);
        if (dstStart < 0 || dstStart + length > dstAxis) throw new ArgumentOutOfRangeException(nameof(dstStart), "slice outside the destination axis");
        if (srcStart < 0 || srcStart + length > srcAxis) throw new ArgumentOutOfRangeException(nameof(srcStart), "slice outside the source axis");
        CheckBlockSize(blockSize);
        CheckBuffer(dst, (long)outer * dstAxis * inner, nameof(dst));
        CheckBuffer(src, (long)outer * srcAxis * inner, nameof(src));
        long count = (long)outer * length * inner;
        if (count == 0) return;
        if (count > int.MaxValue) throw new ArgumentException($"The slice has {count} elements; at most int.MaxValue per launch.");
        Launch("copy_axis_slice_kernel", GridFor((int)count, blockSize), new Dim3((uint)blockSize), dst, src, outer, length, inner,
               dstAxis, dstStart, srcAxis, srcStart, accumulate ? 1 : 0);
    }
}
