namespace BlurVae.Kernels.Device;

/// <summary>
/// The bytes of kernels/elementwise.cuh's <c>weighted_sum_terms</c>, the struct weighted_sum_{forward,backward}_kernel
/// take by value: <see cref="Capacity"/> tensor addresses, as many float weights and the int count, padded to 8 bytes
/// as the compiler pads the struct. The launch checks the size against the kernel's parameter (the emulation's sizeof).
/// </summary>
internal static class WeightedSumTerms
{
    /// <summary>WEIGHTED_SUM_TERMS of elementwise.cuh: terms per launch.</summary>
    public const int Capacity = ShapeRules.MaxWeightedSumTerms;

    /// <summary>sizeof(weighted_sum_terms): 8 pointers, 8 floats and the count, rounded up to the pointers' alignment.</summary>
    public const int Bytes = (Capacity * sizeof(ulong) + Capacity * sizeof(float) + sizeof(int) + 7) / 8 * 8;

    /// <summary>Writes the tensors and their weights into <paramref name="terms"/> (<see cref="Bytes"/> long).</summary>
    public static void Write(Span<byte> terms, IReadOnlyList<DeviceMemory> tensors, IReadOnlyList<double> weights)
    {
        if (tensors.Count < 1 || tensors.Count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(tensors), tensors.Count, $"a weighted sum takes 1 to {Capacity} terms");
        if (weights.Count != tensors.Count) throw new ArgumentException($"{tensors.Count} tensors but {weights.Count} weights.", nameof(weights));
        terms.Clear();
        var addresses = MemoryMarshal.Cast<byte, ulong>(terms[..(Capacity * sizeof(ulong))]);
        var floats = MemoryMarshal.Cast<byte, float>(terms[(Capacity * sizeof(ulong))..(Capacity * (sizeof(ulong) + sizeof(float)))]);
        for (int k = 0; k < tensors.Count; k++)
        {
            addresses[k] = tensors[k].Pointer;
            floats[k] = (float)weights[k];
        }
        MemoryMarshal.Write(terms[(Capacity * (sizeof(ulong) + sizeof(float)))..], tensors.Count);
    }
}
