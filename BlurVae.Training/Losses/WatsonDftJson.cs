using System.Text.Json;

namespace BlurVae.Training.Losses;

/// <summary>
/// Reading the Watson-DFT parameter files: flat JSON objects of numbers and nested number lists (the PyTorch state
/// dicts of the reference, keys unchanged). Every failure is an InvalidDataException naming the file and the field.
/// </summary>
internal static class WatsonDftJson
{
    public const string GrayResource = "gray_watson_fft_trial0.json";
    public const string ColorResource = "rgb_watson_fft_trial0.json";

    /// <summary>The text of a parameter file compiled into this assembly (see the EmbeddedResource in the csproj).</summary>
    public static string ReadResource(string fileName)
    {
        string name = "BlurVae.Training.Losses.WatsonData." + fileName;
        using var stream = typeof(WatsonDftJson).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded Watson-DFT parameter file '{name}' is missing from {typeof(WatsonDftJson).Assembly.GetName().Name}; check the EmbeddedResource item in BlurVae.Training.csproj.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static string ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Watson-DFT parameter file '{path}' does not exist.", path);
        return File.ReadAllText(path);
    }

    /// <summary>Parses and returns the root object (a clone, so it outlives the document).</summary>
    public static JsonElement ParseObject(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: the top level must be a JSON object of named parameters, found {doc.RootElement.ValueKind}.");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
    }

    public static double Number(JsonElement root, string field, string source) => ToNumber(Field(root, field, source), field, source);

    public static int Integer(JsonElement root, string field, string source)
    {
        var e = Field(root, field, source);
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int value))
            throw new InvalidDataException($"{source}: field '{field}' must be an integer, found {Describe(e)}.");
        return value;
    }

    public static double[] Vector(JsonElement root, string field, int length, string source)
    {
        var e = Field(root, field, source);
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != length)
            throw new InvalidDataException($"{source}: field '{field}' must be a list of {length} numbers, found {Describe(e)}.");
        var v = new double[length];
        int i = 0;
        foreach (var item in e.EnumerateArray()) v[i] = ToNumber(item, $"{field}[{i++}]", source);
        return v;
    }

    public static double[,] Matrix(JsonElement root, string field, int rows, int cols, string source)
    {
        var e = Field(root, field, source);
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != rows)
            throw new InvalidDataException($"{source}: field '{field}' must be a {rows}×{cols} list of lists, found {Describe(e)}.");
        var m = new double[rows, cols];
        int r = 0;
        foreach (var row in e.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != cols)
                throw new InvalidDataException($"{source}: field '{field}' must be a {rows}×{cols} list of lists, but row {r} is {Describe(row)}.");
            int c = 0;
            foreach (var item in row.EnumerateArray()) m[r, c] = ToNumber(item, $"{field}[{r}][{c++}]", source);
            r++;
        }
        return m;
    }

    private static JsonElement Field(JsonElement root, string field, string source) =>
        root.TryGetProperty(field, out var e) ? e : throw new InvalidDataException($"{source}: missing field '{field}'.");

    private static double ToNumber(JsonElement e, string field, string source)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new InvalidDataException($"{source}: field '{field}' must be a finite number, found {Describe(e)}.");
        return value;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => $"a list of {e.GetArrayLength()}",
        JsonValueKind.Number or JsonValueKind.String => $"{e.ValueKind.ToString().ToLowerInvariant()} {e.GetRawText()}",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };
}
