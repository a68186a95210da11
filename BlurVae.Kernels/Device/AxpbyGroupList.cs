namespace BlurVae.Kernels.Device;

/// <summary>
/// The bytes of kernels/elementwise.cuh's <c>axpby_group_list</c>, the struct axpby_group_kernel takes by value:
/// <see cref="Capacity"/> addresses of the y tensors, as many of the x tensors, <see cref="Capacity"/> + 1 int offsets
/// and the int count. The launch checks the size against the kernel's parameter (the emulation's sizeof), so a layout
/// that drifts from the C struct is refused, not misread.
/// </summary>
internal static class AxpbyGroupList
{
    /// <summary>AXPBY_GROUP_TENSORS of elementwise.cuh: pairs per launch.</summary>
    public const int Capacity = 16;

    /// <summary>sizeof(axpby_group_list): 2·16 pointers, 17 offsets and the count (a multiple of 8, so no tail padding).</summary>
    public const int Bytes = 2 * Capacity * sizeof(ulong) + (Capacity + 1) * sizeof(int) + sizeof(int);

    /// <summary>
    /// Writes pairs [<paramref name="start"/>, <paramref name="start"/> + count) into <paramref name="list"/>
    /// (<see cref="Bytes"/> long); returns the elements they hold together.
    /// </summary>
    public static int Write(Span<byte> list, int start, int count, IReadOnlyList<DeviceMemory> y, IReadOnlyList<DeviceMemory> x, IReadOnlyList<int> lengths)
    {
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"a list holds 1 to {Capacity} pairs");
        list.Clear();
        var addresses = MemoryMarshal.Cast<byte, ulong>(list[..(2 * Capacity * sizeof(ulong))]);
        var ints = MemoryMarshal.Cast<byte, int>(list[(2 * Capacity * sizeof(ulong))..]);
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            int t = start + i;
            addresses[i] = y[t].Pointer;
            addresses[Capacity + i] = x[t].Pointer;
            ints[i] = (int)total;
            total += lengths[t];
            if (total > int.MaxValue) throw new ArgumentException($"Pairs {start}..{t} hold {total} elements; at most int.MaxValue per launch.", nameof(lengths));
        }
        ints[count] = (int)total;
        ints[Capacity + 1] = count;
        return (int)total;
    }
}
