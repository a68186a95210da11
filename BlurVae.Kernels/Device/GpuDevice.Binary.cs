using BlurVae.Native;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Device;

// Launchers of binary_forward_kernel, axpby_kernel, axpby_group_kernel and weighted_sum_{forward,backward}_kernel
// (kernels/elementwise.cuh): one thread per output element.
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

    /// <summary>
    /// y[k] = alpha·x[k] + beta·y[k] for every pair k (as CpuBackend.AxpbyGroup), the pairs' addresses and offsets in
    /// the launch's parameters (<see cref="TensorList.AxpbyGroup"/>, at most 16 pairs a launch): ⌈pairs / 16⌉ launches, no upload.
    /// </summary>
    public void AxpbyGroup(IReadOnlyList<DeviceMemory> y, double alpha, IReadOnlyList<DeviceMemory> x, IReadOnlyList<int> lengths, double beta, int blockSize = 256)
    {
        if (x.Count != y.Count || lengths.Count != y.Count)
            throw new ArgumentException($"{y.Count} outputs but {x.Count} inputs and {lengths.Count} lengths.", nameof(x));
        CheckBlockSize(blockSize);
        for (int k = 0; k < y.Count; k++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(lengths[k], $"lengths[{k}]");
            CheckBuffer(y[k], lengths[k], $"y[{k}]");
            CheckBuffer(x[k], lengths[k], $"x[{k}]");
        }
        ShapeRules.OwnOutputs(y, nameof(y), x, nameof(x), SameAddress);
        var layout = TensorList.AxpbyGroup;
        Span<byte> list = stackalloc byte[layout.Bytes];
        for (int start = 0; start < y.Count; start += layout.Capacity)
        {
            int total = layout.Write(list, start, Math.Min(layout.Capacity, y.Count - start), lengths, y, x);
            if (total == 0) continue;
            LaunchWithStruct("axpby_group_kernel", GridFor(total, blockSize), new Dim3((uint)blockSize), list, (float)alpha, (float)beta);
        }
    }

    /// <summary>
    /// y = Σ_k weights[k]·x[k] over the first n elements (as CpuBackend.WeightedSumForward), the terms' addresses and
    /// weights in the launch's parameters (<see cref="WeightedSumTerms"/>, at most 8 terms).
    /// </summary>
    public void WeightedSumForward(DeviceMemory y, IReadOnlyList<DeviceMemory> x, IReadOnlyList<double> weights, int n, int blockSize = 256)
    {
        CheckWeightedSum(y, nameof(y), x, nameof(x), n, blockSize);
        if (n == 0) return;
        Span<byte> terms = stackalloc byte[WeightedSumTerms.Bytes];
        WeightedSumTerms.Write(terms, x, weights);
        LaunchWithStruct("weighted_sum_forward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), terms, y, n);
    }

    /// <summary>dx[k] = weights[k]·dy over the first n elements, every term in one launch (as CpuBackend.WeightedSumBackward).</summary>
    public void WeightedSumBackward(IReadOnlyList<DeviceMemory> dx, IReadOnlyList<double> weights, DeviceMemory dy, int n, int blockSize = 256)
    {
        CheckWeightedSum(dy, nameof(dy), dx, nameof(dx), n, blockSize);
        ShapeRules.OwnOutputs(dx, nameof(dx), [], "", SameAddress);
        if (n == 0) return;
        Span<byte> terms = stackalloc byte[WeightedSumTerms.Bytes];
        WeightedSumTerms.Write(terms, dx, weights);
        LaunchWithStruct("weighted_sum_backward_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), terms, dy, n);
    }

    private static bool SameAddress(DeviceMemory a, DeviceMemory b) => a.Pointer == b.Pointer;

    // The sizes of a weighted sum, and its one tensor (y forward, dy backward) apart from the terms: the kernels take it __restrict__.
    private void CheckWeightedSum(DeviceMemory single, string singleName, IReadOnlyList<DeviceMemory> terms, string termsName, int n, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckBlockSize(blockSize);
        CheckBuffer(single, n, singleName);
        for (int k = 0; k < terms.Count; k++)
        {
            CheckBuffer(terms[k], n, $"{termsName}[{k}]");
            if (terms[k].Pointer == single.Pointer) throw new ArgumentException($"{termsName}[{k}] is also {singleName}: the kernels take it __restrict__.", termsName);
        }
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
