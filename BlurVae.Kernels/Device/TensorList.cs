namespace BlurVae.Kernels.Device;

/// <summary>
/// The bytes of a multi-tensor list that a kernel takes by value (PyTorch's multi_tensor_apply layout, shared by
/// kernels/optim.cuh's <c>adam_tensor_list</c> and kernels/elementwise.cuh's <c>axpby_group_list</c>): <see cref="Arrays"/>
/// arrays of <see cref="Capacity"/> device addresses (one array per role: parameters, gradients, … or y, x), then
/// <see cref="Capacity"/> + 1 int element offsets and the int count. The launch checks the size against the kernel's
/// parameter (the emulation's sizeof), so a layout that drifts from the C struct is refused, not misread.
/// </summary>
internal readonly record struct TensorList(int Arrays, int Capacity)
{
    /// <summary>Adam's list: parameters, gradients, first and second moments; ADAM_LIST_TENSORS of optim.cuh.</summary>
    public static readonly TensorList Adam = new(Arrays: 4, Capacity: 48);

    /// <summary>The axpby group's list: outputs y and inputs x; AXPBY_GROUP_TENSORS of elementwise.cuh.</summary>
    public static readonly TensorList AxpbyGroup = new(Arrays: 2, Capacity: 16);

    /// <summary>sizeof the struct: the addresses, Capacity + 1 offsets and the count (a multiple of 8 for an even
    /// Capacity, so no tail padding).</summary>
    public int Bytes => Arrays * Capacity * sizeof(ulong) + (Capacity + 1) * sizeof(int) + sizeof(int);

    /// <summary>
    /// Writes entries [<paramref name="start"/>, <paramref name="start"/> + count) of every array into
    /// <paramref name="list"/> (<see cref="Bytes"/> long), each entry holding lengths[t] elements (the first array's
    /// buffer length when <paramref name="lengths"/> is null); returns the elements they hold together.
    /// </summary>
    public int Write(Span<byte> list, int start, int count, IReadOnlyList<int>? lengths, params ReadOnlySpan<IReadOnlyList<DeviceMemory>> arrays)
    {
        if (arrays.Length != Arrays) throw new ArgumentException($"{arrays.Length} address arrays for a list of {Arrays}.", nameof(arrays));
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"a list holds 1 to {Capacity} tensors");
        list.Clear();
        var addresses = MemoryMarshal.Cast<byte, ulong>(list[..(Arrays * Capacity * sizeof(ulong))]);
        var ints = MemoryMarshal.Cast<byte, int>(list[(Arrays * Capacity * sizeof(ulong))..]);
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            int t = start + i;
            for (int a = 0; a < Arrays; a++) addresses[a * Capacity + i] = arrays[a][t].Pointer;
            ints[i] = (int)total;
            total += lengths?[t] ?? arrays[0][t].Length;
            if (total > int.MaxValue) throw new ArgumentException($"Tensors {start}..{t} hold {total} elements; at most int.MaxValue per launch.", nameof(lengths));
        }
        ints[count] = (int)total;
        ints[Capacity + 1] = count;
        return (int)total;
    }
}
