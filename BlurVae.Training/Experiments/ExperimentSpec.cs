using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BlurVae.Training.Train;

namespace BlurVae.Training.Experiments;

/// <summary>One method of an experiment: a name for the tables and the train options that make it.</summary>
public sealed record ExperimentMethod(string Name, JsonObject Options);

/// <summary>
/// An experiment: methods × β × seeds, every run a `blurvae train` run folder. The JSON file (kebab-case keys):
/// <code>
/// { "name": "fashion-mnist", "data": "auto", "train": { "epochs": 6, ... any train option },
///   "methods": [ { "name": "L2", "loss": "l2" }, { "name": "Wiener", "loss": "wiener" } ],
///   "betas": [0.5, 1], "seeds": [1, 2, 3], "validation-images": 1000, "elbo-eps": 0.5 }
/// </code>
/// A method's keys other than "name" are train options layered over "train"; "beta", "seed" and "out" belong to the
/// grid and may not be set there. "data" may be null: then `--data` must supply it. Every error names the file and key.
/// </summary>
public sealed record ExperimentSpec
{
    public required string Name { get; init; }
    public string? Data { get; init; }
    public required JsonObject Train { get; init; }
    public required IReadOnlyList<ExperimentMethod> Methods { get; init; }
    public required IReadOnlyList<double> Betas { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    /// <summary>Training images held out (after those a run trains on) to select β by the lowest generation FD.</summary>
    public int ValidationImages { get; init; } = 1000;
    public double ElboEps { get; init; } = 0.5;
    /// <summary>Where the spec came from (for messages).</summary>
    public string Source { get; init; } = "spec";

    private static readonly string[] GridKeys = ["beta", "seed", "out"];
    private static readonly string[] TopKeys = ["name", "description", "data", "train", "methods", "betas", "seeds", "validation-images", "elbo-eps"];

    public static ExperimentSpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"experiment: the spec '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static ExperimentSpec Parse(string json, string source)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the spec must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
        foreach (var (key, _) in root)
            if (!TopKeys.Contains(key)) throw new InvalidDataException($"{source}: unknown key '{key}' (expected {string.Join(", ", TopKeys)}).");
        T Get<T>(string key, T fallback)
        {
            if (root[key] is not JsonNode node) return fallback;
            try { return node.Deserialize<T>() ?? fallback; }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{source}: '{key}' has the wrong type ({e.Message}).");
            }
        }
        var train = root["train"] as JsonObject ?? new JsonObject();
        var methods = new List<ExperimentMethod>();
        if (root["methods"] is not JsonArray list || list.Count == 0)
            throw new InvalidDataException($"{source}: 'methods' must be a non-empty array of objects like {{\"name\": \"L2\", \"loss\": \"l2\"}}.");
        foreach (var item in list)
        {
            if (item is not JsonObject m || m["name"]?.GetValueKind() != JsonValueKind.String)
                throw new InvalidDataException($"{source}: every entry of 'methods' needs a \"name\" string.");
            string name = m["name"]!.GetValue<string>();
            if (methods.Any(x => x.Name == name)) throw new InvalidDataException($"{source}: method name '{name}' appears twice.");
            if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('|'))
                throw new InvalidDataException($"{source}: method name '{name}' must be usable as a folder name.");
            var options = (JsonObject)m.DeepClone();
            options.Remove("name");
            methods.Add(new ExperimentMethod(name, options));
        }
        var spec = new ExperimentSpec
        {
            Name = Get<string?>("name", null) ?? Path.GetFileNameWithoutExtension(source),
            Data = Get<string?>("data", null),
            Train = train,
            Methods = methods,
            Betas = Get<double[]>("betas", [1.0]),
            Seeds = Get<int[]>("seeds", [1]),
            ValidationImages = Get("validation-images", 1000),
            ElboEps = Get("elbo-eps", 0.5),
            Source = source,
        };
        spec.Check();
        return spec;
    }

    private void Check()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new InvalidDataException($"{Source}: {message}");
        }
        Require(Betas.Count > 0 && Betas.All(b => b >= 0 && double.IsFinite(b)), "'betas' must list non-negative numbers.");
        Require(Betas.Distinct().Count() == Betas.Count, "'betas' lists a value twice.");
        Require(Seeds.Count > 0 && Seeds.Distinct().Count() == Seeds.Count, "'seeds' must list distinct integers.");
        Require(ValidationImages >= 2, $"'validation-images' must be at least 2 (got {ValidationImages}).");
        Require(ElboEps > 0, $"'elbo-eps' must be positive (got {ElboEps}).");
        foreach (var key in GridKeys)
        {
            Require(!Train.ContainsKey(key), $"'train' sets '{key}', which the grid sets per run; remove it.");
            foreach (var m in Methods) Require(!m.Options.ContainsKey(key), $"method '{m.Name}' sets '{key}', which the grid sets per run; remove it.");
        }
    }

    /// <summary>
    /// This spec with train options overridden (the command line's --data and --set key=value), and
    /// <paramref name="vggWeights"/> (--vgg-weights) given to the methods trained with --loss vgg only.
    /// </summary>
    public ExperimentSpec WithOverrides(string? data, IReadOnlyDictionary<string, JsonNode?> set, string? vggWeights = null)
    {
        var train = (JsonObject)Train.DeepClone();
        foreach (var (k, v) in set)
        {
            if (GridKeys.Contains(k)) throw new ArgumentException($"--set {k}: '{k}' is set per run by the grid.");
            train[k] = v?.DeepClone();
        }
        // --set applies over the methods too, so a smoke run can shrink every run.
        var methods = Methods.Select(m =>
        {
            var o = (JsonObject)m.Options.DeepClone();
            foreach (var k in set.Keys) o.Remove(k);
            if (vggWeights is not null && (o["loss"] ?? train["loss"])?.GetValueKind() == JsonValueKind.String && (o["loss"] ?? train["loss"])!.GetValue<string>() == "vgg")
                o["vgg-weights"] = vggWeights;
            return m with { Options = o };
        }).ToList();
        return this with { Data = data ?? Data, Train = train, Methods = methods };
    }

    /// <summary>The train options of one grid cell (validated; errors name the spec and the method).</summary>
    public TrainOptions OptionsFor(ExperimentMethod method, double beta, int seed, string folder)
    {
        if (Data is null) throw new ArgumentException($"{Source} takes the data path as a parameter: pass --data PATH.");
        var merged = (JsonObject)Train.DeepClone();
        foreach (var (k, v) in method.Options) merged[k] = v?.DeepClone();
        merged["data"] = Data;
        merged["beta"] = beta;
        merged["seed"] = seed;
        merged["out"] = folder;
        var options = TrainOptions.FromJson(merged.ToJsonString(), $"{Source}: method '{method.Name}'");
        try
        {
            options.Validate();
        }
        catch (Exception e) when (e is ArgumentException or Errors.UserError)
        {
            throw new Errors.UserError($"{Source}: method '{method.Name}': {e.Message}", e);
        }
        return options;
    }

    /// <summary>"beta-0.5" — a folder name that sorts and reads well.</summary>
    public static string BetaLabel(double beta) => "beta-" + beta.ToString("0.####", CultureInfo.InvariantCulture);
}
