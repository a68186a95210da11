using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BlurVae.Training.Io;

/// <summary>
/// The safetensors format (loadable by PyTorch's safetensors.torch.load_file): an 8-byte little-endian header length,
/// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw
/// little-endian tensor bytes. Files are written atomically: a temporary file in the same folder, then a rename, so a
/// crash mid-write never leaves a truncated checkpoint in place of a good one.
/// </summary>
public static class SafeTensors
{
    /// <summary>A tensor as stored: dtype, shape and values widened to double.</summary>
    public sealed record Entry(DType DType, int[] Shape, double[] Values);

    public static void Write(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        var seen = new HashSet<string>();
        foreach (var (name, t) in tensors)
        {
            if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' appears twice in a checkpoint.");
            byte[] bytes = ToBytes(t);
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType == DType.Float32 ? "F32" : "F64",
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces to a multiple of 8 bytes so the data that follows is aligned.
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(headerBytes);
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    /// <summary>
    /// Reads a whole file. Every way a file can be wrong — truncated, a header length beyond the file, invalid JSON,
    /// fields of the wrong type, unsupported dtypes, shapes that do not match their byte ranges — is an
    /// InvalidDataException naming the file and the tensor or field, never another exception type.
    /// </summary>
    public static (Dictionary<string, Entry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The safetensors file '{path}' does not exist.", path);
        byte[] file = File.ReadAllBytes(path);
        string damaged = "the file is damaged or not a safetensors file: restore it from a copy, or write it again (train, or the command that exported it)";
        InvalidDataException Bad(string problem) => new($"The safetensors file '{path}': {problem}; {damaged}.");
        if (file.Length < 8) throw Bad($"only {file.Length} bytes, not even the 8-byte header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLen > (ulong)(file.Length - 8))
            throw Bad($"the header length field says {headerLen} bytes but only {file.Length - 8} follow it (truncated?)");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLen)) as JsonObject
                     ?? throw Bad("the header is not a JSON object");
            _ = header.Count;   // JsonObject builds its dictionary lazily: a repeated key throws here, not mid-loop
        }
        catch (JsonException e)
        {
            throw Bad($"the header is not valid JSON ({e.Message})");
        }
        catch (ArgumentException e)
        {
            throw Bad($"the header repeats a key ({e.Message})");
        }
        long dataStart = 8 + (long)headerLen;
        long dataLength = file.Length - dataStart;
        var tensors = new Dictionary<string, Entry>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw Bad("'__metadata__' is not an object");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue s && s.TryGetValue<string>(out var text) ? text : throw Bad($"metadata '{k}' is not a string");
                continue;
            }
            if (node is not JsonObject obj) throw Bad($"entry '{name}' is not an object");
            string dtypeName = obj["dtype"] is JsonValue dv && dv.TryGetValue<string>(out var d) ? d : throw Bad($"tensor '{name}' has no dtype string");
            DType dtype = dtypeName switch
            {
                "F32" => DType.Float32,
                "F64" => DType.Float64,
                _ => throw Bad($"tensor '{name}' has dtype {dtypeName}, but only F32 and F64 are supported"),
            };
            if (obj["shape"] is not JsonArray shapeNode) throw Bad($"tensor '{name}' has no shape list");
            var shape = new int[shapeNode.Count];
            double count = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                shape[i] = shapeNode[i] is JsonValue sv && sv.TryGetValue<int>(out int extent) && extent >= 0 ? extent
                    : throw Bad($"tensor '{name}' has shape entry {i} = {shapeNode[i]?.ToJsonString() ?? "null"}, not a non-negative integer");
                count *= extent;
            }
            if (obj["data_offsets"] is not JsonArray { Count: 2 } offsets
                || offsets[0] is not JsonValue bv || !bv.TryGetValue<long>(out long begin)
                || offsets[1] is not JsonValue ev || !ev.TryGetValue<long>(out long end))
                throw Bad($"tensor '{name}' has no data_offsets pair of integers");
            int elem = dtype.SizeInBytes();
            if (begin < 0 || end < begin || end > dataLength)
                throw Bad($"tensor '{name}' spans bytes [{begin}, {end}) but the data section has {dataLength} bytes (truncated file?)");
            if (end - begin != count * elem)
                throw Bad($"tensor '{name}' of shape {Tensor.ShapeString(shape)} needs {count * elem} bytes but its offsets give {end - begin}");
            var values = new double[(long)count];
            var span = file.AsSpan((int)(dataStart + begin), (int)(end - begin));
            for (int i = 0; i < values.Length; i++)
                values[i] = dtype == DType.Float32
                    ? BinaryPrimitives.ReadSingleLittleEndian(span.Slice(i * 4, 4))
                    : BinaryPrimitives.ReadDoubleLittleEndian(span.Slice(i * 8, 8));
            tensors[name] = new Entry(dtype, shape, values);
        }
        return (tensors, metadata);
    }

    private static byte[] ToBytes(Tensor t)
    {
        if (t.DType == DType.Float32)
        {
            var v = t.ToFloatArray();
            var bytes = new byte[v.Length * 4];
            for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), v[i]);
            return bytes;
        }
        else
        {
            var v = t.ToDoubleArray();
            var bytes = new byte[v.Length * 8];
            for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), v[i]);
            return bytes;
        }
    }
}
