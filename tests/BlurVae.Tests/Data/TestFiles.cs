using System.Buffers.Binary;
using System.IO.Compression;

namespace BlurVae.Tests.Data;

/// <summary>A temporary directory per test, deleted afterwards.</summary>
public abstract class TempDirectoryTest
{
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateTempDirectory()
    {
        Dir = Path.Combine(Path.GetTempPath(), "blurvae-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    [TearDown]
    public void DeleteTempDirectory()
    {
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }

    protected string PathOf(string name) => Path.Combine(Dir, name);
}

/// <summary>Writers of small files in the formats the readers accept, built from the format descriptions.</summary>
internal static class TestFiles
{
    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }

    public static void Write(string path, byte[] data, bool gzip = false) => File.WriteAllBytes(path, gzip ? Gzip(data) : data);

    /// <summary>An IDX file: 00 00 type rank, big-endian extents, payload.</summary>
    public static byte[] Idx(byte type, int[] dims, byte[] payload)
    {
        var data = new byte[4 + 4 * dims.Length + payload.Length];
        data[2] = type;
        data[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(data, 4 + 4 * dims.Length);
        return data;
    }

    /// <summary>n grey h×w images whose pixel (i, y, x) is (7i + 3y + x) mod 256.</summary>
    public static byte[] IdxImages(int n, int h, int w, out byte[] pixels)
    {
        pixels = new byte[n * h * w];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    pixels[(i * h + y) * w + x] = (byte)((7 * i + 3 * y + x) % 256);
        return Idx(0x08, [n, h, w], pixels);
    }

    public static byte[] IdxLabels(int[] labels) => Idx(0x08, [labels.Length], labels.Select(l => (byte)l).ToArray());

    /// <summary>CIFAR-10 records: label, then R, G, B planes; pixel (i, c, p) is (i + 50c + p) mod 256.</summary>
    public static byte[] CifarRecords(int[] labels, int firstImage = 0)
    {
        var data = new byte[labels.Length * 3073];
        for (int i = 0; i < labels.Length; i++)
        {
            data[i * 3073] = (byte)labels[i];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++)
                    data[i * 3073 + 1 + c * 1024 + p] = (byte)((firstImage + i + 50 * c + p) % 256);
        }
        return data;
    }

    /// <summary>A NIfTI-1 single-file image with the given fields; values are encoded for the datatype.</summary>
    public static byte[] Nifti(short[] extents, short datatype, double[] values, bool bigEndian = false,
        short? bitpix = null, float voxOffset = 352, float slope = 0, float inter = 0, int sizeofHdr = 348, string magic = "n+1")
    {
        int bits = datatype switch { 2 or 256 => 8, 4 or 512 => 16, 8 or 16 or 768 => 32, 64 => 64, _ => 32 };
        var payload = Encode(values, datatype, bigEndian);
        var data = new byte[(int)voxOffset + payload.Length];
        void I32(int o, int v) { if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(o), v); else BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(o), v); }
        void I16(int o, short v) { if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(data.AsSpan(o), v); else BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(o), v); }
        void F32(int o, float v) { if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(o), v); else BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(o), v); }
        I32(0, sizeofHdr);
        I16(40, (short)extents.Length);
        for (int i = 0; i < extents.Length; i++) I16(42 + 2 * i, extents[i]);
        for (int i = extents.Length + 1; i < 8; i++) I16(40 + 2 * i, 1);
        I16(70, datatype);
        I16(72, bitpix ?? (short)bits);
        for (int i = 0; i < 8; i++) F32(76 + 4 * i, 1f);
        F32(108, voxOffset);
        F32(112, slope);
        F32(116, inter);
        Encoding.ASCII.GetBytes(magic).CopyTo(data, 344);
        payload.CopyTo(data, (int)voxOffset);
        return data;
    }

    public static byte[] Encode(double[] values, short datatype, bool big)
    {
        int size = datatype switch { 2 or 256 => 1, 4 or 512 => 2, 8 or 16 or 768 => 4, 64 => 8, _ => 4 };
        var bytes = new byte[values.Length * size];
        var s = bytes.AsSpan();
        for (int i = 0; i < values.Length; i++)
        {
            var o = s[(i * size)..];
            double v = values[i];
            switch (datatype)
            {
                case 2: o[0] = (byte)v; break;
                case 256: o[0] = (byte)(sbyte)v; break;
                case 4: if (big) BinaryPrimitives.WriteInt16BigEndian(o, (short)v); else BinaryPrimitives.WriteInt16LittleEndian(o, (short)v); break;
                case 512: if (big) BinaryPrimitives.WriteUInt16BigEndian(o, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(o, (ushort)v); break;
                case 8: if (big) BinaryPrimitives.WriteInt32BigEndian(o, (int)v); else BinaryPrimitives.WriteInt32LittleEndian(o, (int)v); break;
                case 768: if (big) BinaryPrimitives.WriteUInt32BigEndian(o, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(o, (uint)v); break;
                case 64: if (big) BinaryPrimitives.WriteDoubleBigEndian(o, v); else BinaryPrimitives.WriteDoubleLittleEndian(o, v); break;
                default: if (big) BinaryPrimitives.WriteSingleBigEndian(o, (float)v); else BinaryPrimitives.WriteSingleLittleEndian(o, (float)v); break;
            }
        }
        return bytes;
    }

    /// <summary>Encodes a w×h image whose pixels come from <paramref name="color"/>(x, y) as PNG or JPEG.</summary>
    public static byte[] Image(int w, int h, Func<int, int, SKColor> color, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                bitmap.SetPixel(x, y, color(x, y));
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }
}
