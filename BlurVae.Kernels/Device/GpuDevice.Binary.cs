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
        var walk = new BroadcastWalk(MaxBroadcastRank, shape, Shapes.Strides(shape, broadA), Shapes.Strides(shape, broadB));
        var args = new List<LaunchArg>(40) { y, a, b, (int)n, (int)op };
        walk.WriteArgs(args);
        Launch("binary_forward_kernel", GridFor((int)n, blockSize), new Dim3((uint)blockSize), CollectionsMarshal.AsSpan(args));
    }

    /// <summary>y = alpha·x + beta·y over the first n elements (as CpuBackend.Axpby; beta = 0 ignores y).</summary>
    public void Axpby(DeviceMemory y, double alpha, DeviceMemory x, double beta, int n, int blockSize = 256)
    {
        if (!CheckElementwise(n, blockSize, (y, nameof(y)), (x, nameof(x)))) return;
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
}
