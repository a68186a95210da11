namespace BlurVae.Kernels.Device;

/// <summary>
/// The bytes of kernels/optim.cuh's <c>adam_tensor_list</c>, the struct adam_multi_tensor_kernel takes by value:
/// <see cref="Capacity"/> addresses each of parameters, gradients, first and second moments, then
/// <see cref="Capacity"/> + 1 int offsets and the int count. The launch checks the size against the kernel's
/// parameter (the emulation's sizeof), so a layout that drifts from the C struct is refused, not misread.
/// </summary>
internal static class AdamTensorList
{
    /// <summary>ADAM_LIST_TENSORS of optim.cuh: tensors per launch.</summary>
    public const int Capacity = 48;

    /// <summary>sizeof(adam_tensor_list): 4·48 pointers, 49 offsets and the count (a multiple of 8, so no tail padding).</summary>
    public const int Bytes = 4 * Capacity * sizeof(ulong) + (Capacity + 1) * sizeof(int) + sizeof(int);

    /// <summary>
    /// Writes tensors [<paramref name="start"/>, <paramref name="start"/> + count) of the group into
    /// <paramref name="list"/> (<see cref="Bytes"/> long); returns the elements they hold together.
    /// </summary>
    public static int Write(Span<byte> list, int start, int count, IReadOnlyList<DeviceMemory> param, IReadOnlyList<DeviceMemory> grad,
                            IReadOnlyList<DeviceMemory> m, IReadOnlyList<DeviceMemory> v)
    {
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"a list holds 1 to {Capacity} tensors");
        list.Clear();
        var addresses = MemoryMarshal.Cast<byte, ulong>(list[..(4 * Capacity * sizeof(ulong))]);
        var ints = MemoryMarshal.Cast<byte, int>(list[(4 * Capacity * sizeof(ulong))..]);
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            int t = start + i;
            addresses[i] = param[t].Pointer;
            addresses[Capacity + i] = grad[t].Pointer;
            addresses[2 * Capacity + i] = m[t].Pointer;
            addresses[3 * Capacity + i] = v[t].Pointer;
            ints[i] = (int)total;
            total += param[t].Length;
            if (total > int.MaxValue) throw new ArgumentException($"Tensors {start}..{t} hold {total} elements; at most int.MaxValue per launch.", nameof(param));
        }
        ints[count] = (int)total;
        ints[Capacity + 1] = count;
        return (int)total;
    }
}
