namespace BlurVae.Kernels.Device;

/// <summary>
/// One kernel argument by value: a device pointer, an int, a float or a double, stored in 8 bytes the way cuLaunchKernel's
/// kernelParams[i] points at it (little-endian, so an int's or float's bytes are the first 4). <see cref="Size"/>
/// is checked against the kernel's parameter type by the emulated device.
/// </summary>
public readonly struct LaunchArg
{
    internal readonly ulong Bits;
    internal readonly uint Size;

    private LaunchArg(ulong bits, uint size)
    {
        Bits = bits;
        Size = size;
    }

    public static implicit operator LaunchArg(DeviceMemory buffer) => new(buffer.Pointer, sizeof(ulong));

    /// <summary>A null device pointer: what a kernel takes for an absent optional buffer (no bias, no running statistics).</summary>
    public static LaunchArg NullPointer => new(0, sizeof(ulong));

    /// <summary>A raw device address (a device's own workspace, not a <see cref="DeviceMemory"/>).</summary>
    internal static LaunchArg Pointer(ulong address) => new(address, sizeof(ulong));

    /// <summary>The buffer's device pointer, or <see cref="NullPointer"/> when the buffer is absent.</summary>
    public static LaunchArg PointerOrNull(DeviceMemory? buffer) => buffer is null ? NullPointer : buffer;
    public static implicit operator LaunchArg(int value) => new((uint)value, sizeof(int));
    public static implicit operator LaunchArg(float value) => new(BitConverter.SingleToUInt32Bits(value), sizeof(float));
    public static implicit operator LaunchArg(double value) => new(BitConverter.DoubleToUInt64Bits(value), sizeof(double));

    // C# converts uint, long and ulong to double implicitly, so without these a uint argument would silently reach the
    // kernel as an 8-byte double. They exist only to make such a call a compile error: cast to int (or double).
    private const string NoImplicitWidening = "Pass an int (or a double) to a kernel: a uint, long or ulong would be converted to double silently.";
    [Obsolete(NoImplicitWidening, error: true)] public static implicit operator LaunchArg(uint value) => throw new NotSupportedException(NoImplicitWidening);
    [Obsolete(NoImplicitWidening, error: true)] public static implicit operator LaunchArg(long value) => throw new NotSupportedException(NoImplicitWidening);
    [Obsolete(NoImplicitWidening, error: true)] public static implicit operator LaunchArg(ulong value) => throw new NotSupportedException(NoImplicitWidening);
}
