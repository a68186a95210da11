using System.Buffers.Binary;
using System.IO.Compression;

namespace BlurVae.Training.Data;

/// <summary>Reads NIfTI-1 single-file volumes (.nii, or .nii.gz detected by the gzip magic).</summary>
public static class NiftiReader
{
    /// <summary>Reads and checks just the header (only the first 348 bytes are read or decompressed).</summary>
    public static NiftiHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        Stream stream = got == 2 && DataFile.IsGzip(magic) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using (stream)
        {
            var header = new byte[NiftiHeader.HeaderSize];
            int n;
            try { n = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false); }
            catch (InvalidDataException e) { throw new DatasetFormatException(path, $"corrupt gzip data ({e.Message})", e); }
            return NiftiHeader.Parse(path, header.AsSpan(0, n));
        }
    }

    /// <summary>Reads the header and all voxels, applying scl_slope/scl_inter.</summary>
    public static NiftiVolume ReadVolume(string path)
    {
        var data = DataFile.ReadAllBytes(path);
        var header = NiftiHeader.Parse(path, data);
        header.CheckFileLength(data.Length);
        var voxels = new float[header.VoxelCount];
        Decode(header, data.AsSpan((int)header.VoxOffset), voxels);
        return new NiftiVolume(header, voxels);
    }

    private static void Decode(NiftiHeader h, ReadOnlySpan<byte> raw, float[] voxels)
    {
        bool big = h.BigEndian;
        bool scale = h.SclSlope != 0 && float.IsFinite(h.SclSlope) && float.IsFinite(h.SclInter);
        double slope = scale ? h.SclSlope : 1, inter = scale ? h.SclInter : 0;
        for (int i = 0; i < voxels.Length; i++)
        {
            double v = h.DataType switch
            {
                2 => raw[i],
                256 => (sbyte)raw[i],
                4 => big ? BinaryPrimitives.ReadInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
                512 => big ? BinaryPrimitives.ReadUInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
                8 => big ? BinaryPrimitives.ReadInt32BigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                768 => big ? BinaryPrimitives.ReadUInt32BigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadUInt32LittleEndian(raw[(4 * i)..]),
                16 => big ? BinaryPrimitives.ReadSingleBigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                64 => big ? BinaryPrimitives.ReadDoubleBigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                1024 => big ? BinaryPrimitives.ReadInt64BigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                1280 => big ? BinaryPrimitives.ReadUInt64BigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadUInt64LittleEndian(raw[(8 * i)..]),
                _ => throw new DatasetFormatException(h.Path, $"unsupported datatype {h.DataType}."),
            };
            voxels[i] = (float)(slope * v + inter);
        }
    }
}

/// <summary>
/// A NIfTI volume's voxels as floats after scl_slope/scl_inter, x fastest: voxel (x, y, z, t) is at
/// x + NX·(y + NY·(z + NZ·t)). Dimensions past the third (time, ...) are folded into <see cref="Frames"/>
/// 3-D volumes.
/// </summary>
public sealed class NiftiVolume
{
    internal NiftiVolume(NiftiHeader header, float[] voxels)
    {
        Header = header;
        Voxels = voxels;
        var d = header.Dim;
        NX = d[1];
        NY = header.Rank >= 2 ? d[2] : 1;
        NZ = header.Rank >= 3 ? d[3] : 1;
        long frames = 1;
        for (int i = 4; i <= header.Rank; i++) frames *= d[i];
        Frames = (int)frames;
    }

    public NiftiHeader Header { get; }

    public int NX { get; }

    public int NY { get; }

    /// <summary>Slices along the third voxel axis (the axial one for the usual axially stored scans).</summary>
    public int NZ { get; }

    public int Frames { get; }

    /// <summary>NX·NY·NZ·Frames values. Do not modify.</summary>
    public float[] Voxels { get; }
}
