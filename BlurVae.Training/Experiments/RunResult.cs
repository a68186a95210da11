using System.Text.Json;
using System.Text.Json.Nodes;

namespace BlurVae.Training.Experiments;

/// <summary>
/// The evaluated metrics of one grid cell, saved as result.json in its run folder so a resumed experiment does not
/// evaluate a finished run again. Metrics are the test-split means by their `blurvae eval` names; ValidationFdGen is
/// the generation FD on the held-out validation images that selects β (null where FD-FMNIST does not apply);
/// ValidationFidGen the generation FID there, which selects β instead when every run has it (--inception-weights).
/// </summary>
public sealed record RunResult(string Method, double Beta, int Seed, string Folder, int Epoch, Dictionary<string, double> Metrics, double? ValidationFdGen,
                               double? ValidationFidGen = null)
{
    public const string FileName = "result.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower };

    public void Save() => AtomicFile.WriteAllText(Path.Combine(Folder, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The saved result of a run folder if it was evaluated after <paramref name="epoch"/> epochs, else null.</summary>
    public static RunResult? TryLoad(string folder, int epoch)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var result = JsonSerializer.Deserialize<RunResult>(File.ReadAllText(path), Json);
            return result is not null && result.Epoch == epoch ? result with { Folder = folder } : null;
        }
        catch (JsonException)
        {
            return null; // an unreadable result is evaluated again
        }
    }

    public double? Metric(string name) => Metrics.TryGetValue(name, out var v) ? v : null;
}
