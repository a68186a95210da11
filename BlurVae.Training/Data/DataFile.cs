using System.IO.Compression;

namespace BlurVae.Training.Data;

/// <summary>Reads a whole data file into memory, gunzipping it when it starts with the gzip magic (1F 8B).</summary>
internal static class DataFile
{
    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1F && data[1] == 0x8B;

    public static byte[] ReadAllBytes(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        var info = new FileInfo(path);
        if (info.Length > Array.MaxLength)
            throw new DatasetFormatException(path, $"the file is {info.Length} bytes, more than one in-memory array can hold.");
        var raw = File.ReadAllBytes(path);
        return IsGzip(raw) ? Gunzip(path, raw) : raw;
    }

    public static byte[] Gunzip(string path, byte[] compressed)
    {
        try
        {
            using var gz = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream(compressed.Length * 2);
            gz.CopyTo(output);
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new DatasetFormatException(path, $"corrupt or truncated gzip data ({e.Message})", e);
        }
        catch (OutOfMemoryException e)
        {
            throw new DatasetFormatException(path, "the decompressed data is larger than one in-memory array can hold.", e);
        }
    }

    /// <summary>The path with ".gz" appended when only the compressed file exists; null when neither does.</summary>
    public static string? FindPlainOrGzip(string directory, string baseName)
    {
        var plain = Path.Combine(directory, baseName);
        if (File.Exists(plain)) return plain;
        var gz = plain + ".gz";
        return File.Exists(gz) ? gz : null;
    }
}
