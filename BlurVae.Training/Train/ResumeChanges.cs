using System.Text.Json;
using System.Text.Json.Nodes;

namespace BlurVae.Training.Train;

/// <summary>
/// What `train --resume` does with options given again: those that can change between epochs without invalidating
/// the checkpoint (learning rates, batch size, epochs, grids, test subset, device, run folder) are applied and
/// reported; any other that differs from the saved run (architecture, loss, data, sizes, seed…) is refused by name,
/// since the checkpoint's tensors or the run's meaning depend on it.
/// </summary>
public static class ResumeChanges
{
    public static readonly IReadOnlySet<string> Changeable = new HashSet<string>
    {
        "epochs", "out", "lr", "lr-kernel", "batch-size", "grid-images", "max-test-images", "device", "precision",
        "vgg-weights", // the file may move; the weights in it are the user's to keep
    };

    /// <summary>Options that describe this invocation rather than the run: always taken from the command line (and Verbose, which is not saved).</summary>
    private static readonly string[] Always = ["epochs", "out"];

    /// <summary>
    /// The saved options with the changeable ones of <paramref name="asked"/> applied, and "--lr 0.0001 → 0.001"-style
    /// descriptions of what changed. <paramref name="given"/> are the kebab-case names the user set (flags or config
    /// keys); null compares every option that differs from its default. Epochs and out always come from asked.
    /// </summary>
    public static (TrainOptions Options, IReadOnlyList<string> Changes) Apply(TrainOptions saved, TrainOptions asked, IEnumerable<string>? given, string folder)
    {
        var savedJson = JsonSerializer.SerializeToNode(saved, TrainOptions.Json)!.AsObject();
        var askedJson = JsonSerializer.SerializeToNode(asked, TrainOptions.Json)!.AsObject();
        var defaults = JsonSerializer.SerializeToNode(new TrainOptions(), TrainOptions.Json)!.AsObject();
        var names = given?.ToHashSet() ?? askedJson.Where(kv => !JsonNode.DeepEquals(kv.Value, defaults[kv.Key])).Select(kv => kv.Key).ToHashSet();
        names.UnionWith(Always);
        var changes = new List<string>();
        var refused = new List<string>();
        foreach (var name in names.Where(askedJson.ContainsKey).Order(StringComparer.Ordinal))
        {
            var was = savedJson[name];
            var now = askedJson[name];
            if (JsonNode.DeepEquals(was, now)) continue;
            string text = $"--{name} {Show(was)} → {Show(now)}";
            if (Changeable.Contains(name))
            {
                savedJson[name] = now?.DeepClone();
                if (!Always.Contains(name)) changes.Add(text);
            }
            else refused.Add(text);
        }
        if (refused.Count > 0)
            throw new UserError($"--resume: the run in '{folder}' cannot continue with {string.Join(", ", refused)}: the checkpoint was trained " +
                                $"with the saved values. Drop {(refused.Count == 1 ? "that flag" : "those flags")} to resume, or start a new run with another --out. " +
                                $"Only {string.Join(", ", Changeable.Order(StringComparer.Ordinal).Select(n => "--" + n))} may change on resume.");
        return (savedJson.Deserialize<TrainOptions>(TrainOptions.Json)! with { Verbose = asked.Verbose, NoCudaGraph = asked.NoCudaGraph }, changes);
    }

    private static string Show(JsonNode? value) => value switch
    {
        null => "none",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => value.ToJsonString(),
    };
}
