using System.Globalization;
using System.Net;
using System.Text;
using BlurVae.Training.Metrics;

namespace BlurVae.Training.Experiments;

/// <summary>
/// The paper-style tables of an experiment: per method the β with the lowest mean validation generation FID (the
/// paper's selection rule) when the runs were evaluated with --inception-weights, else FD-FMNIST in its place, and
/// mean ± std over seeds of PSNR, SSIM, FD-FMNIST (and FID when given) of reconstructions and samples and the negative ELBO; then the whole grid. Written as results.md,
/// results.csv and a static report.html that also shows every run's reconstructions, samples, kernels and losses.
/// </summary>
public sealed class ExperimentReport(ExperimentSpec spec, string folder, IReadOnlyList<RunResult> results)
{
    public const string MarkdownFile = "results.md", CsvFile = "results.csv", HtmlFile = "report.html";

    /// <summary>A column: its header and the metric of `blurvae eval` it shows.</summary>
    private sealed record Column(string Header, string Metric, int Decimals);

    /// <summary>The images every run folder has, shown in the HTML report.</summary>
    public static readonly string[] RunImages = ["reconstructions.png", "samples.png", "kernels.png", "loss.png"];

    private IReadOnlyList<Column> Columns()
    {
        string eps = spec.ElboEps.ToString("0.###", CultureInfo.InvariantCulture);
        return
        [
            new("PSNR", "psnr", 2),
            new("SSIM", "ssim", 4),
            new("FD-FMNIST rec", "fd-fmnist-rec", 3),
            new("FD-FMNIST gen", "fd-fmnist-gen", 3),
            .. results.Any(r => r.Metric("fid-rec") is not null) ? new Column[] { new("FID rec", "fid-rec", 2), new("FID gen", "fid-gen", 2) } : [],
            new("−ELBO Σ=I (bits/dim)", "neg_elbo_identity_bpd", 4),
            new($"−ELBO ours ε={eps} (bits/dim)", $"neg_elbo_wiener_eps{eps}_bpd", 4),
            .. LpipsColumns(),
        ];
    }

    /// <summary>An LPIPS column per variant some run was scored with (experiment --lpips-weights).</summary>
    private IEnumerable<Column> LpipsColumns() =>
        from variant in new[] { ("alex", "Alex"), ("vgg", "VGG") }
        where results.Any(r => r.Metric($"lpips-{variant.Item1}") is not null)
        select new Column($"LPIPS-{variant.Item2}", $"lpips-{variant.Item1}", 4);

    /// <summary>The grid's cells (method, β) in spec order with their runs over seeds.</summary>
    private IEnumerable<(string Method, double Beta, List<RunResult> Runs)> Cells() =>
        from m in spec.Methods
        from b in spec.Betas
        let runs = results.Where(r => r.Method == m.Name && r.Beta == b).ToList()
        where runs.Count > 0
        select (m.Name, b, runs);

    /// <summary>Whether validation FID-gen selects β: every run has it (--inception-weights); else FD-FMNIST-gen does.</summary>
    private bool ByFid => results.Count > 0 && results.All(r => r.ValidationFidGen is not null);

    private string Selection => ByFid ? "FID gen" : "FD-FMNIST gen";

    /// <summary>The mean over seeds of the validation metric that selects β, or null when a run lacks it.</summary>
    private double? Validation(List<RunResult> runs)
    {
        var values = runs.Select(r => ByFid ? r.ValidationFidGen : r.ValidationFdGen).ToList();
        return values.All(v => v is not null) ? values.Average(v => v!.Value) : null;
    }

    /// <summary>Per method the β of the lowest mean validation FID-gen or FD-FMNIST-gen (the only β when neither applies).</summary>
    public IReadOnlyDictionary<string, double> SelectedBetas() =>
        Cells().GroupBy(c => c.Method).ToDictionary(g => g.Key, g => g
            .OrderBy(c => Validation(c.Runs) ?? double.PositiveInfinity)
            .First().Beta);

    private static MeanStd? Over(List<RunResult> runs, string metric)
    {
        var values = runs.Select(r => r.Metric(metric)).ToList();
        return values.All(v => v is not null) ? MeanStd.Of(values.Select(v => v!.Value).ToList()) : null;
    }

    private static string Cell(MeanStd? value, int decimals) => value is MeanStd v ? v.ToString(decimals) : "n/a";

    private static string B(double beta) => beta.ToString("0.####", CultureInfo.InvariantCulture);

    public string Markdown()
    {
        var columns = Columns();
        var selected = SelectedBetas();
        var sb = new StringBuilder();
        sb.Append($"### {spec.Name}: β per method by the lowest validation {Selection}; mean ± std over {spec.Seeds.Count} seed(s) on the test split\n\n");
        sb.Append("| Method | β | ").AppendJoin(" | ", columns.Select(c => c.Header)).Append(" |\n");
        sb.Append("|:--|--:|").Append(string.Concat(columns.Select(_ => "--:|"))).Append('\n');
        foreach (var (method, beta, runs) in Cells().Where(c => selected[c.Method] == c.Beta))
            sb.Append($"| {method} | {B(beta)} | ").AppendJoin(" | ", columns.Select(c => Cell(Over(runs, c.Metric), c.Decimals))).Append(" |\n");
        sb.Append($"\n### Every β (validation {Selection} selects β)\n\n");
        sb.Append($"| Method | β | validation {Selection} | ").AppendJoin(" | ", columns.Select(c => c.Header)).Append(" |\n");
        sb.Append("|:--|--:|--:|").Append(string.Concat(columns.Select(_ => "--:|"))).Append('\n');
        foreach (var (method, beta, runs) in Cells())
        {
            var values = runs.Select(r => ByFid ? r.ValidationFidGen : r.ValidationFdGen).ToList();
            var validation = values.All(v => v is not null) ? MeanStd.Of(values.Select(v => v!.Value).ToList()) : (MeanStd?)null;
            sb.Append($"| {method} | {B(beta)}{(selected[method] == beta ? " (selected)" : "")} | {Cell(validation, 3)} | ")
              .AppendJoin(" | ", columns.Select(c => Cell(Over(runs, c.Metric), c.Decimals))).Append(" |\n");
        }
        return sb.ToString();
    }

    public string Csv()
    {
        var columns = Columns();
        var selected = SelectedBetas();
        var sb = new StringBuilder($"method,beta,selected,seeds,{(ByFid ? "validation_fid_gen" : "validation_fd_fmnist_gen")}");
        foreach (var c in columns) sb.Append(',').Append(c.Metric).Append("_mean,").Append(c.Metric).Append("_std");
        sb.Append('\n');
        string N(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        foreach (var (method, beta, runs) in Cells())
        {
            double? validation = Validation(runs);
            sb.Append($"\"{method.Replace("\"", "\"\"")}\",{N(beta)},{(selected[method] == beta ? "true" : "false")},{runs.Count},{N(validation)}");
            foreach (var c in columns)
            {
                var v = Over(runs, c.Metric);
                sb.Append(',').Append(N(v?.Mean)).Append(',').Append(N(v?.Std));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public string Html()
    {
        string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(spec.Name)).Append(" — BlurVae experiment</title>\n");
        sb.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}" +
                  "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}" +
                  "tr.selected{background:#e8f4e8}section{margin:2em 0;border-top:1px solid #ccc}img{image-rendering:pixelated;max-width:100%;margin:4px;border:1px solid #ddd}</style></head><body>\n");
        sb.Append("<h1>").Append(E(spec.Name)).Append("</h1>\n<p>").Append(E($"{spec.Methods.Count} methods × {spec.Betas.Count} β × {spec.Seeds.Count} seed(s); " +
                  "FD-FMNIST is the Fréchet distance in the features of this project's Fashion-MNIST classifier, not FID.")).Append("</p>\n");
        foreach (var table in MarkdownTables(Markdown()))
        {
            sb.Append("<h2>").Append(E(table.Title)).Append("</h2>\n<table>\n");
            for (int r = 0; r < table.Rows.Count; r++)
            {
                string tag = r == 0 ? "th" : "td";
                sb.Append(table.Rows[r].Any(c => c.Contains("(selected)")) ? "<tr class=\"selected\">" : "<tr>");
                foreach (var cell in table.Rows[r]) sb.Append('<').Append(tag).Append('>').Append(E(cell)).Append("</").Append(tag).Append('>');
                sb.Append("</tr>\n");
            }
            sb.Append("</table>\n");
        }
        foreach (var r in results)
        {
            string relative = Path.GetRelativePath(folder, r.Folder).Replace('\\', '/');
            sb.Append("<section><h3>").Append(E($"{r.Method}, β = {B(r.Beta)}, seed {r.Seed}, after epoch {r.Epoch}")).Append("</h3><p><code>").Append(E(relative)).Append("</code></p>\n");
            foreach (var image in RunImages.Where(i => File.Exists(Path.Combine(r.Folder, i))))
                sb.Append("<img src=\"").Append(E(relative + "/" + image)).Append("\" alt=\"").Append(E($"{image} of {r.Method} β={B(r.Beta)} seed {r.Seed}")).Append("\">");
            sb.Append("</section>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>The tables of <see cref="Markdown"/> back as (heading, rows of cells), for the HTML page.</summary>
    private static List<(string Title, List<string[]> Rows)> MarkdownTables(string markdown)
    {
        var tables = new List<(string, List<string[]>)>();
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith("### ")) tables.Add((line[4..], []));
            else if (line.StartsWith('|') && !line.StartsWith("|:--"))
                tables[^1].Item2.Add(line.Trim('|').Split(" | ").Select(c => c.Trim()).ToArray());
        }
        return tables;
    }

    public void Write()
    {
        AtomicFile.WriteAllText(Path.Combine(folder, MarkdownFile), Markdown());
        AtomicFile.WriteAllText(Path.Combine(folder, CsvFile), Csv());
        AtomicFile.WriteAllText(Path.Combine(folder, HtmlFile), Html());
    }
}
