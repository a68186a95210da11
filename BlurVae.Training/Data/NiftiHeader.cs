using System.Buffers.Binary;
using System.Text;

namespace BlurVae.Training.Data;

/// <summary>
/// The fields of a NIfTI-1 single-file (.nii, magic "n+1") header that reading a volume needs. The byte order
/// is found from sizeof_hdr, which is 348 read in the file's own order.
/// </summary>
public sealed record NiftiHeader
{
    /// <summary>Size of a NIfTI-1 header in bytes (the value of sizeof_hdr).</summary>
    public const int HeaderSize = 348;

    public required string Path { get; init; }

    public required bool BigEndian { get; init; }

    /// <summary>dim[0..7]: dim[0] is the rank (1..7), dim[1..rank] the extents (x fastest in the file).</summary>
    public required short[] Dim { get; init; }

    /// <summary>The NIfTI datatype code (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16, 768 uint32, 1024 int64, 1280 uint64).</summary>
    public required short DataType { get; init; }

    public required short BitPix { get; init; }

    /// <summary>Byte offset of the voxel data in the file.</summary>
    public required long VoxOffset { get; init; }

    /// <summary>Intensity scaling value = slope·stored + inter; a slope of 0 (or a non-finite one) means no scaling.</summary>
    public required float SclSlope { get; init; }

    public required float SclInter { get; init; }

    public int Rank => Dim[0];

    /// <summary>Voxels in the whole file (product of dim[1..rank]).</summary>
    public long VoxelCount
    {
        get
        {
            long n = 1;
            for (int i = 1; i <= Rank; i++) n *= Dim[i];
            return n;
        }
    }

    public int BytesPerVoxel => BitPix / 8;

    /// <summary>Parses and checks the header at the start of <paramref name="data"/> (the whole file or at least its first 348 bytes).</summary>
    internal static NiftiHeader Parse(string path, ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
            throw new DatasetFormatException(path, $"truncated: {data.Length} bytes, too short for a NIfTI-1 header.");
        int le = BinaryPrimitives.ReadInt32LittleEndian(data), be = BinaryPrimitives.ReadInt32BigEndian(data);
        bool big;
        if (le == HeaderSize) big = false;
        else if (be == HeaderSize) big = true;
        else if (le == 540 || be == 540)
            throw new DatasetFormatException(path, "a NIfTI-2 header (sizeof_hdr 540); only NIfTI-1 is supported.");
        else
            throw new DatasetFormatException(path, $"bad sizeof_hdr {le} (0x{(uint)le:X8}): a NIfTI-1 header starts with 348 in either byte order.");
        if (data.Length < HeaderSize)
            throw new DatasetFormatException(path, $"truncated: {data.Length} bytes, shorter than the 348-byte NIfTI-1 header.");

        var magic = data.Slice(344, 4);
        if (magic.SequenceEqual("ni1\0"u8))
            throw new DatasetFormatException(path, "a header-only file (magic \"ni1\" of a .hdr/.img pair); only single-file .nii (magic \"n+1\") is supported.");
        if (!magic.SequenceEqual("n+1\0"u8))
            throw new DatasetFormatException(path, $"bad magic \"{Printable(magic)}\" at byte 344 (expected \"n+1\"); not a single-file NIfTI-1 image.");

        var dim = new short[8];
        for (int i = 0; i < 8; i++) dim[i] = I16(data, big, 40 + 2 * i);
        if (dim[0] < 1 || dim[0] > 7)
            throw new DatasetFormatException(path, $"dim[0] = {dim[0]}: the rank must be 1..7.");
        for (int i = 1; i <= dim[0]; i++)
            if (dim[i] < 1) throw new DatasetFormatException(path, $"dim[{i}] = {dim[i]}: extents must be positive.");

        short datatype = I16(data, big, 70), bitpix = I16(data, big, 72);
        int expectedBits = BitsOf(datatype)
            ?? throw new DatasetFormatException(path, $"unsupported datatype {datatype} ({TypeName(datatype)}); supported: uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64.");
        if (bitpix != expectedBits)
            throw new DatasetFormatException(path, $"bitpix {bitpix} disagrees with datatype {datatype} ({TypeName(datatype)}, {expectedBits} bits).");

        float voxOffset = F32(data, big, 108);
        if (!float.IsFinite(voxOffset) || voxOffset != MathF.Floor(voxOffset) || voxOffset < HeaderSize)
            throw new DatasetFormatException(path, $"vox_offset {voxOffset} is not a whole byte offset at or after the 348-byte header.");

        return new NiftiHeader
        {
            Path = path,
            BigEndian = big,
            Dim = dim,
            DataType = datatype,
            BitPix = bitpix,
            VoxOffset = (long)voxOffset,
            SclSlope = F32(data, big, 112),
            SclInter = F32(data, big, 116),
        };
    }

    /// <summary>Checks that the voxel data the header describes lies within a file of <paramref name="fileLength"/> bytes.</summary>
    internal void CheckFileLength(long fileLength)
    {
        if (VoxOffset > fileLength)
            throw new DatasetFormatException(Path, $"vox_offset {VoxOffset} is beyond the end of the file ({fileLength} bytes).");
        long needed = VoxelCount * BytesPerVoxel;
        string shape = string.Join("×", Dim.Skip(1).Take(Rank));
        if (VoxOffset + needed > fileLength)
            throw new DatasetFormatException(Path, $"truncated or lying header: dims {shape} of {TypeName(DataType)} need {needed} bytes from vox_offset {VoxOffset}, but the file has only {fileLength - VoxOffset} bytes after it.");
        if (VoxelCount > Array.MaxLength)
            throw new DatasetFormatException(Path, $"dims {shape} hold {VoxelCount} voxels, more than one in-memory array can hold.");
    }

    private static short I16(ReadOnlySpan<byte> data, bool big, int offset) =>
        big ? BinaryPrimitives.ReadInt16BigEndian(data[offset..]) : BinaryPrimitives.ReadInt16LittleEndian(data[offset..]);

    private static float F32(ReadOnlySpan<byte> data, bool big, int offset) =>
        big ? BinaryPrimitives.ReadSingleBigEndian(data[offset..]) : BinaryPrimitives.ReadSingleLittleEndian(data[offset..]);

    internal static int? BitsOf(short datatype) => datatype switch
    {
        2 or 256 => 8,
        4 or 512 => 16,
        8 or 16 or 768 => 32,
        64 or 1024 or 1280 => 64,
        _ => null,
    };

    internal static string TypeName(short datatype) => datatype switch
    {
        0 => "unknown",
        1 => "binary",
        2 => "uint8",
        4 => "int16",
        8 => "int32",
        16 => "float32",
        32 => "complex64",
        64 => "float64",
        128 => "rgb24",
        256 => "int8",
        512 => "uint16",
        768 => "uint32",
        1024 => "int64",
        1280 => "uint64",
        1536 => "float128",
        1792 => "complex128",
        2048 => "complex256",
        2304 => "rgba32",
        _ => "not a NIfTI datatype",
    };

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes) sb.Append(b is >= 32 and < 127 ? (char)b : b == 0 ? "\\0" : $"\\x{b:X2}");
        return sb.ToString();
    }
}
