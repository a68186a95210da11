using BlurVae.Native;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Device;

// Launchers of sum_to_forward_kernel, broadcast_to_forward_kernel and copy_axis_slice_kernel
// (kernels/reduce.cuh).
public abstract partial class GpuDevice
{
    /// <summary>Blocks a reduction aims for: two waves of an H100's 132 SMs, so no SM idles for want of work.</summary>
    private const int ReductionTargetBlocks = 264;

    /// <summary>
    /// y = x summed over every axis where yShape has 1 and xShape not; same rank (as CpuBackend.SumTo). A two-level
    /// block reduction (kernels/reduce.cuh): <paramref name="blockSize"/> threads (a power of two ≥ 32) per block, the
    /// reduced elements cut into chunks until the grid has about <see cref="ReductionTargetBlocks"/> blocks, and the
    /// chunks added in order by the last block of each column, in the same launch; deterministic.
    /// </summary>
    public void SumToForward(DeviceMemory y, int[] yShape, DeviceMemory x, int[] xShape, int blockSize = 256)
    {
        ArgumentNullException.ThrowIfNull(yShape);
        ArgumentNullException.ThrowIfNull(xShape);
        if (xShape.Length != yShape.Length) throw new ArgumentException($"xShape has rank {xShape.Length}, yShape {yShape.Length}.", nameof(xShape));
        CheckBlockSize(blockSize, multipleOf32: true);
        if ((blockSize & (blockSize - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "the reduction's block size must be a power of two");
        long ny = ShapeLength(yShape, nameof(yShape)), nx = ShapeLength(xShape, nameof(xShape));
        CheckBuffer(y, ny, nameof(y));
        CheckBuffer(x, nx, nameof(x));
        if (ny == 0) return;
        // x is the full shape; y's "broadcast" axes are the reduced ones (the check that y broadcasts to x included).
        var (shape, reduced, _) = Shapes.Coalesce(xShape, yShape, yShape);
        if (shape.Length > MaxBroadcastRank)
            throw new ArgumentException($"The reduction needs {shape.Length} axes after coalescing [{string.Join(",", shape)}]; the kernels take at most {MaxBroadcastRank}.");
        long[] xStrides = Shapes.Strides(shape, new bool[shape.Length]);
        var kept = Enumerable.Range(0, shape.Length).Where(i => !reduced[i] && shape[i] > 1).ToArray();
        var summed = Enumerable.Range(0, shape.Length).Where(i => reduced[i]).ToArray();
        var keptWalk = new BroadcastWalk(SumToMaxAxes, kept.Select(i => shape[i]).ToArray(), kept.Select(i => xStrides[i]).ToArray());
        var summedWalk = new BroadcastWalk(SumToMaxAxes, summed.Select(i => shape[i]).ToArray(), summed.Select(i => xStrides[i]).ToArray());
        int nr = (int)(nx / ny);

        // A warp reads 32 adjacent elements either way: 32 outputs side by side when the innermost axis is kept,
        // 32 reduced elements of one output when it is reduced.
        int bx = reduced[^1] || ny == 1 ? 1 : 32, by = blockSize / bx;
        int outputBlocks = (int)((ny + bx - 1) / bx);
        var (chunks, chunk) = ReductionChunks(outputBlocks, nr, by);

        // With several chunks: partial sums (every chunk writes all ny outputs, so no zero-fill) and a ticket counter per
        // block column; the column's last block adds the chunks into y in the same launch.
        using var partial = chunks > 1 ? Allocate(checked(chunks * (int)ny), zeroed: false) : null;
        var args = new List<LaunchArg>(40) { y, LaunchArg.PointerOrNull(partial), chunks > 1 ? TicketCounters(outputBlocks) : LaunchArg.NullPointer, x, (int)ny, nr, chunk };
        keptWalk.WriteArgs(args);
        summedWalk.WriteArgs(args);
        Launch("sum_to_forward_kernel", new Dim3((uint)outputBlocks, (uint)chunks), new Dim3((uint)bx, (uint)by), CollectionsMarshal.AsSpan(args));
    }

    /// <summary>
    /// The two-level reduction rule (sum_to, batch norm): the <paramref name="perOutput"/> reduced elements of each of
    /// <paramref name="outputBlocks"/> blocks' outputs cut into chunks until the grid reaches
    /// <see cref="ReductionTargetBlocks"/>, each of <paramref name="threads"/> threads per chunk still summing ≥ 4
    /// elements; returns the chunk count (every chunk non-empty) and the chunk length.
    /// </summary>
    private static (int Chunks, int Chunk) ReductionChunks(int outputBlocks, int perOutput, int threads)
    {
        int chunks = Math.Clamp(Math.Min((ReductionTargetBlocks + outputBlocks - 1) / outputBlocks, (perOutput + 4 * threads - 1) / (4 * threads)), 1, 65_535);
        int chunk = (perOutput + chunks - 1) / chunks;
        return (perOutput == 0 ? 1 : (perOutput + chunk - 1) / chunk, chunk);
    }

    /// <summary>Kept or reduced axes sum_to_forward_kernel takes (SUM_TO_MAX_AXES): they alternate after coalescing.</summary>
    private const int SumToMaxAxes = MaxBroadcastRank / 2;

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
        var walk = new BroadcastWalk(MaxBroadcastRank, shape, Shapes.Strides(shape, broadcast));
        var args = new List<LaunchArg>(32) { y, x, (int)n };
        walk.WriteArgs(args);
        Launch("broadcast_to_forward_kernel", GridFor((int)n, blockSize), new Dim3((uint)blockSize), CollectionsMarshal.AsSpan(args));
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

    /// <summary>x [outer, 2·half, inner] into its halves a and b [outer, half, inner] along the middle axis, one launch (as CpuBackend.SplitForward).</summary>
    public void SplitForward(DeviceMemory a, DeviceMemory b, DeviceMemory x, int outer, int half, int inner, int blockSize = 256)
    {
        int n = SplitHalfLength(outer, half, inner);
        if (!CheckElementwise(n, blockSize, (a, nameof(a)), (b, nameof(b)))) return;
        CheckBuffer(x, 2L * n, nameof(x));
        Launch("split_forward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), a, b, x, n, half * inner);
    }

    /// <summary>dx [outer, 2·half, inner] = da in its first half and db in its second, a null gradient as zeros; every element
    /// written, one launch (as CpuBackend.SplitBackward).</summary>
    public void SplitBackward(DeviceMemory dx, DeviceMemory? da, DeviceMemory? db, int outer, int half, int inner, int blockSize = 256)
    {
        int n = SplitHalfLength(outer, half, inner);
        if (!CheckElementwise(n, blockSize)) return;
        CheckBuffer(dx, 2L * n, nameof(dx));
        if (da is not null) CheckBuffer(da, n, nameof(da));
        if (db is not null) CheckBuffer(db, n, nameof(db));
        Launch("split_backward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), dx, LaunchArg.PointerOrNull(da), LaunchArg.PointerOrNull(db), n, half * inner);
    }

    /// <summary>The elements of one half of a split, checked to fit the kernels' int indices (2·n for x).</summary>
    private static int SplitHalfLength(int outer, int half, int inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outer);
        ArgumentOutOfRangeException.ThrowIfLessThan(half, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inner, 1);
        long n = (long)outer * half * inner;
        if (2 * n > int.MaxValue) throw new ArgumentException($"A split of {2 * n} elements; at most int.MaxValue per launch.");
        return (int)n;
    }

    /// <summary>
    /// Viewing dx as [outer, axis, inner] and dy as [outer, length, inner]: dx = dy at [start, start + length) of the
    /// middle axis and 0 elsewhere, every element written once (as CpuBackend.NarrowBackward).
    /// </summary>
    public void NarrowBackward(DeviceMemory dx, int axis, int start, DeviceMemory dy, int outer, int length, int inner, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outer);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(inner);
        if (start < 0 || start + length > axis) throw new ArgumentOutOfRangeException(nameof(start), "slice outside the axis");
        CheckBlockSize(blockSize);
        long n = (long)outer * axis * inner;
        CheckBuffer(dx, n, nameof(dx));
        CheckBuffer(dy, (long)outer * length * inner, nameof(dy));
        if (n == 0) return;
        if (n > int.MaxValue) throw new ArgumentException($"dx has {n} elements; at most int.MaxValue per launch.");
        Launch("narrow_backward_kernel", GridFor((int)n, blockSize), new Dim3((uint)blockSize), dx, dy, (int)n, axis, start, length, inner);
    }
}
