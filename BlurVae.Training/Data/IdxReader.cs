using System.Buffers.Binary;

namespace BlurVae.Training.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (plain or gzip, detected by the gzip magic): a 4-byte magic
/// 00 00 &lt;type&gt; &lt;rank&gt;, rank big-endian int32 extents, then the values row-major. Images are rank 3
/// (N, H, W) and labels rank 1 (N), both unsigned bytes (type 0x08), the only element type these datasets use.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>
    /// Reads an idx3 image file as N grey images of H×W, with the labels of an idx1 file when one is given
    /// (its count must match).
    /// </summary>
    public static ImageDataset ReadImages(string path, string? labelsPath = null, string? name = null)
    {
        var images = ParseImages(path, DataFile.ReadAllBytes(path), name ?? Path.GetFileName(path));
        if (labelsPath is null) return images;
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new DatasetFormatException(labelsPath, $"holds {labels.Length} labels but the image file {path} holds {images.Count} images.");
        return images.WithLabels(labels);
    }

    /// <summary>Reads an idx1 label file (one unsigned byte per item).</summary>
    public static int[] ReadLabels(string path) => ParseLabels(path, DataFile.ReadAllBytes(path));

    /// <summary>Parses idx3 image bytes (already gunzipped); <paramref name="source"/> names them in errors.</summary>
    internal static ImageDataset ParseImages(string source, byte[] data, string name)
    {
        var (dims, offset) = Parse(source, data, expectedRank: 3, what: "image");
        int n = dims[0], h = dims[1], w = dims[2];
        if (h == 0 || w == 0) throw new DatasetFormatException(source, $"the images are {h}×{w}; both extents must be positive.");
        return new ImageDataset(name, n, 1, h, w, data.AsSpan(offset).ToArray());
    }

    /// <summary>Parses idx1 label bytes (already gunzipped).</summary>
    internal static int[] ParseLabels(string source, byte[] data)
    {
        var (dims, offset) = Parse(source, data, expectedRank: 1, what: "label");
        var labels = new int[dims[0]];
        for (int i = 0; i < labels.Length; i++) labels[i] = data[offset + i];
        return labels;
    }

    /// <summary>True when the file (after gunzip) starts like an IDX file of unsigned bytes of rank 1 to 4.</summary>
    internal static bool LooksLikeIdx(byte[] data) =>
        data.Length >= 4 && data[0] == 0 && data[1] == 0 && data[2] == UnsignedByte && data[3] is >= 1 and <= 4;

    private static (int[] Dims, int Offset) Parse(string path, byte[] data, int expectedRank, string what)
    {
        if (data.Length < 4)
            throw new DatasetFormatException(path, $"truncated: {data.Length} bytes, shorter than the 4-byte IDX magic.");
        if (data[0] != 0 || data[1] != 0)
            throw new DatasetFormatException(path, $"bad magic {data[0]:X2} {data[1]:X2} {data[2]:X2} {data[3]:X2}: an IDX file starts with 00 00 <type> <rank>.");
        if (data[2] != UnsignedByte)
            throw new DatasetFormatException(path, $"unsupported element type 0x{data[2]:X2} ({TypeName(data[2])}); only unsigned bytes (0x08) are supported.");
        int rank = data[3];
        if (rank != expectedRank)
            throw new DatasetFormatException(path, $"has rank {rank} but an IDX {what} file has rank {expectedRank} (magic 00 00 08 {expectedRank:X2}).");
        int header = 4 + 4 * rank;
        if (data.Length < header)
            throw new DatasetFormatException(path, $"truncated: {data.Length} bytes, shorter than the {header}-byte header.");
        var dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4 + 4 * i));
            if (d > int.MaxValue) throw new DatasetFormatException(path, $"header extent {i} is {d}, too large.");
            dims[i] = (int)d;
            total *= d;
        }
        long payload = data.Length - header;
        string shape = string.Join("×", dims);
        if (payload < total)
            throw new DatasetFormatException(path, $"truncated: the header says {shape} = {total} bytes of data but only {payload} follow it.");
        if (payload > total)
            throw new DatasetFormatException(path, $"the header dims {shape} = {total} bytes disagree with the file size: {payload} bytes follow the header.");
        return (dims, header);
    }

    private static string TypeName(byte code) => code switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "not an IDX type",
    };
}
