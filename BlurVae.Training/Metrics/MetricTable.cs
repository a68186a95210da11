using System.Globalization;
using System.Text;
using BlurVae.Training.Reports;

namespace BlurVae.Training.Metrics;

/// <summary>One named metric of a <see cref="MetricTable"/>.</summary>
public readonly record struct MetricRow(string Name, MeanStd Value);

/// <summary>
/// Named metrics (name → mean ± std over n images) in insertion order, rendered as aligned plain text for the
/// console or as a markdown table for reports; what `blurvae eval` prints and saves.
/// </summary>
public sealed class MetricTable
{
    private readonly List<MetricRow> _rows = [];

    public MetricTable(string? title = null) => Title = title;

    /// <summary>An optional heading printed above the table.</summary>
    public string? Title { get; }

    public IReadOnlyList<MetricRow> Rows => _rows;

    public int Count => _rows.Count;

    /// <summary>Appends a metric; names are unique (case-sensitive) and non-blank.</summary>
    public MetricTable Add(string name, MeanStd value)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A metric needs a non-blank name.", nameof(name));
        if (name.Contains('|') || name.Contains('\n') || name.Contains('\r'))
            throw new ArgumentException($"Metric name '{name}' must not contain '|' or line breaks (they would break the table).", nameof(name));
        if (_rows.Any(r => r.Name == name)) throw new ArgumentException($"The table already has a metric named '{name}'.", nameof(name));
        if (value.Count < 1) throw new ArgumentException($"Metric '{name}' has a count of {value.Count}; it needs at least one value.", nameof(value));
        _rows.Add(new MetricRow(name, value));
        return this;
    }

    /// <summary>Appends the mean and population std of raw per-image values.</summary>
    public MetricTable Add(string name, IReadOnlyList<double> values) => Add(name, MeanStd.Of(values));

    public bool Contains(string name) => _rows.Any(r => r.Name == name);

    public MeanStd this[string name]
    {
        get
        {
            foreach (var r in _rows)
                if (r.Name == name) return r.Value;
            throw new KeyNotFoundException($"The table has no metric named '{name}'; it has: {string.Join(", ", _rows.Select(r => r.Name))}.");
        }
    }

    /// <summary>Aligned columns "metric  mean ± std  n", invariant culture, one line per metric.</summary>
    public string ToText(int decimals = 4)
    {
        CheckDecimals(decimals);
        var cells = Cells(decimals);
        int[] widths = new int[4];
        foreach (var row in cells)
            for (int c = 0; c < 4; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        var sb = new StringBuilder();
        if (Title is not null) sb.Append(Title).Append('\n');
        for (int i = 0; i < cells.Count; i++)
        {
            var row = cells[i];
            // Names left-aligned, numbers right-aligned so decimal points line up; no ± in the header line.
            sb.Append(row[0].PadRight(widths[0])).Append("  ")
              .Append(row[1].PadLeft(widths[1])).Append(i == 0 ? "   " : " ± ")
              .Append(row[2].PadLeft(widths[2])).Append("  ")
              .Append(row[3].PadLeft(widths[3])).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A GitHub-flavoured markdown table | Metric | Mean | Std | N |, with the title as a heading.</summary>
    public string ToMarkdown(int decimals = 4)
    {
        CheckDecimals(decimals);
        var sb = new StringBuilder();
        if (Title is not null) sb.Append("### ").Append(Title).Append("\n\n");
        sb.Append("| Metric | Mean | Std | N |\n");
        sb.Append("|:--|--:|--:|--:|\n");
        foreach (var row in Cells(decimals).Skip(1))
            sb.Append("| ").Append(row[0]).Append(" | ").Append(row[1]).Append(" | ").Append(row[2]).Append(" | ").Append(row[3]).Append(" |\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToMarkdown"/> atomically (temp file, then rename), creating directories as needed.</summary>
    public void SaveMarkdown(string path, int decimals = 4) => AtomicFile.WriteAllText(path, ToMarkdown(decimals));

    public override string ToString() => ToText();

    // Header row first, then one row per metric: name, mean, std, n.
    private List<string[]> Cells(int decimals)
    {
        var cells = new List<string[]> { new[] { "metric", "mean", "std", "n" } };
        foreach (var r in _rows)
            cells.Add([r.Name, MeanStd.Format(r.Value.Mean, decimals), MeanStd.Format(r.Value.Std, decimals), r.Value.Count.ToString(CultureInfo.InvariantCulture)]);
        return cells;
    }

    private static void CheckDecimals(int decimals)
    {
        if (decimals is < 0 or > 15) throw new ArgumentOutOfRangeException(nameof(decimals), decimals, "Decimals must lie in [0, 15].");
    }
}
