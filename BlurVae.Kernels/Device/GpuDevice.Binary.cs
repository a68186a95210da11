using BlurVae.Native;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Device;

// Launchers of binary_forward_kernel and axpby_kernel (kernels/elementwise.cuh): one thread per output element.
public abstract partial class GpuDevice
{
    /// <summary>Most axes the broadcasting kernels take after coalescing (BROADCAST_MAX_RANK in elementwise.cuh).</summary>
    public const int MaxBroadcastRank = 6;

    /// <summary>y = a op b with numpy broadcasting; all three shapes have the same rank (as CpuBackend.BinaryForward).</summary>
    public void BinaryForward(BinaryOp op, DeviceMemory y, int[] yShape, DeviceMemory a, int[] aShape, DeviceMemory b, int[] bShape, int blockSize = 256)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "unknown binary op");
        ArgumentNullException.ThrowIfNull(yShape);
        ArgumentNullException.ThrowIfNull(aShape);
        ArgumentNullException.ThrowIfNull(bShape);
        if (aShape.Length != yShape.Length) throw new ArgumentException($"aShape has rank {aShape.Length}, yShape {yShape.Length}.", nameof(aShape));
        if (bShape.Length != yShape.Length) throw new ArgumentException($"bShape has rank {bShape.Length}, yShape {yShape.Length}.", nameof(bShape));
        CheckBlockSize(blockSize);
        long n = ShapeLength(yShape, nameof(yShape));
        CheckBuffer(y, n, nameof(y));
        CheckBuffer(a, ShapeLength(aShape, nameof(aShape)), nameof(a));
        CheckBuffer(b, ShapeLength(bShape, nameof(bShape)), nameof(b));
        if (n == 0) return;
        // Coalescing also checks that a and b broadcast to y.
        var (shape, broadA, broadB) = Shapes.Coalesce(yShape, aShape, bShape);
        int[] d = PadExtents(shape);
        int[] sa = PadStrides(shape, broadA), sb = PadStrides(shape, broadB);
        Launch("binary_forward_kernel", GridFor((int)n, blockSize), new Dim3((uint)blockSize), y, a, b, (int)n, (int)op,
               d[0], d[1], d[2], d[3], d[4], d[5], sa[0], sa[1], sa[2], sa[3], sa[4], sa[5], sb[0], sb[1], sb[2], sb[3], sb[4], sb[5]);
    }

    /// <summary>y = alpha·x + beta·y over the first n elements (as CpuBackend.Axpby; beta = 0 ignores y).</summary>
    public void Axpby(DeviceMemory y, double alpha, DeviceMemory x, double beta, int n, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckBlockSize(blockSize);
        CheckBuffer(y, n, nameof(y));
        CheckBuffer(x, n, nameof(x));
        if (n == 0) return;
        Launch("axpby_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), y, x, n, (float)alpha, (float)beta);
    }

    /// <summary>Element count of a shape; int-sized, as the kernels index with int.</summary>
    private static long ShapeLength(int[] shape, string name)
    {
        long p = 1;
        foreach (int e in shape)
        {
            if (e < 0) throw new ArgumentException($"{name} has a negative extent: [{string.Join(",", shape)}].", name);
            p *= e;
        }
        if (p > int.MaxValue) throw new ArgumentException($"{name} [{string.Join(",", shape)}] has more than int.MaxValue elements.", name);
        return p;
    }

    /// <summary>The coalesced extents left-padded with 1 to <see cref="MaxBroadcastRank"/> axes.</summary>
    private static int[] PadExtents(int[] shape)
    {
        if (shape.Length > MaxBroadcastRank)
            throw new ArgumentException($"The broadcast needs {shape.Length} axes after coalescing [{string.Join(",", shape)}]; the kernels take at most {MaxBroadcastRank}.");
        var d = new int[MaxBroadcastRank];
        Array.Fill(d, 1);
        shape.CopyTo(d, MaxBroadcastRank - shape.Length);
        return d;
    }

    /// <summary>An operand's element strides over the coalesced shape (0 where broadcast), left-padded with 0.</summary>
    private static int[] PadStrides(int[] shape, bool[] broadcast)
    {
        long[] strides = Shapes.Strides(shape, broadcast);
        var s = new int[MaxBroadcastRank];
        for (int i = 0; i < strides.Length; i++) s[MaxBroadcastRank - strides.Length + i] = checked((int)strides[i]);
        return s;
    }
}
