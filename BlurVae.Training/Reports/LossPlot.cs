using System.Globalization;
using ScottPlot;

namespace BlurVae.Training.Reports;

/// <summary>One named line of a <see cref="LossPlot"/>: points (x = epoch or step, y = value) in drawing order.</summary>
public sealed record PlotSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A dashed vertical line at <paramref name="X"/> with a legend entry, e.g. where the warm-up ends.</summary>
public sealed record PlotMarker(double X, string Label);

/// <summary>
/// Training curves as a PNG line plot (ScottPlot 5): labelled axes, a legend beside the data (never over it), whole
/// numbers on the x axis when every x is one (epochs), optional log-scale y axis and vertical markers.
/// </summary>
public static class LossPlot
{
    /// <summary>Series in the dictionary's enumeration order (insertion order for a Dictionary without removals).</summary>
    public static void Save(string path, IReadOnlyDictionary<string, IReadOnlyList<(double X, double Y)>> series,
        string xLabel = "epoch", string yLabel = "loss", string? title = null, bool logY = false, int width = 800, int height = 500,
        IReadOnlyList<PlotMarker>? markers = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        Save(path, series.Select(kv => new PlotSeries(kv.Key, kv.Value)).ToList(), xLabel, yLabel, title, logY, width, height, markers);
    }

    /// <summary>
    /// Writes the plot atomically to <paramref name="path"/> as a width×height PNG. Every value must be finite, and
    /// with <paramref name="logY"/> every y must be positive (the axis then shows log10 y with 10^k tick labels).
    /// </summary>
    public static void Save(string path, IReadOnlyList<PlotSeries> series,
        string xLabel = "epoch", string yLabel = "loss", string? title = null, bool logY = false, int width = 800, int height = 500,
        IReadOnlyList<PlotMarker>? markers = null)
    {
        AtomicFile.CheckPath(path);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(xLabel);
        ArgumentNullException.ThrowIfNull(yLabel);
        if (series.Count == 0) throw new ArgumentException("A loss plot needs at least one series.", nameof(series));
        if (width is < 100 or > 8000) throw new ArgumentOutOfRangeException(nameof(width), width, "The plot width must lie in [100, 8000] pixels.");
        if (height is < 100 or > 8000) throw new ArgumentOutOfRangeException(nameof(height), height, "The plot height must lie in [100, 8000] pixels.");

        var plot = new Plot();
        try
        {
            double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
            bool wholeX = true;
            var names = new HashSet<string>();
            foreach (var s in series)
            {
                ArgumentNullException.ThrowIfNull(s, nameof(series));
                if (string.IsNullOrWhiteSpace(s.Name)) throw new ArgumentException("Every series needs a non-blank name (it is its legend entry).", nameof(series));
                if (!names.Add(s.Name)) throw new ArgumentException($"Two series are named '{s.Name}'.", nameof(series));
                ArgumentNullException.ThrowIfNull(s.Points, $"series '{s.Name}' points");
                if (s.Points.Count == 0) throw new ArgumentException($"Series '{s.Name}' has no points.", nameof(series));
                var xs = new double[s.Points.Count];
                var ys = new double[s.Points.Count];
                for (int i = 0; i < xs.Length; i++)
                {
                    var (x, y) = s.Points[i];
                    if (!double.IsFinite(x) || !double.IsFinite(y))
                        throw new ArgumentException($"Series '{s.Name}' has a non-finite point ({x}, {y}) at index {i}.", nameof(series));
                    if (logY && y <= 0)
                        throw new ArgumentException($"Series '{s.Name}' has y = {y} at index {i}; a log-scale plot needs positive values.", nameof(series));
                    xs[i] = x;
                    wholeX &= x == Math.Round(x);
                    ys[i] = logY ? Math.Log10(y) : y;
                    yMin = Math.Min(yMin, ys[i]);
                    yMax = Math.Max(yMax, ys[i]);
                }
                var line = plot.Add.Scatter(xs, ys);
                line.LegendText = s.Name;
                // Markers only where there are few enough points to tell them apart.
                line.MarkerSize = xs.Length <= 50 ? 5 : 0;
            }

            foreach (var m in markers ?? [])
            {
                if (!double.IsFinite(m.X)) throw new ArgumentException($"Marker '{m.Label}' is at x = {m.X}.", nameof(markers));
                var line = plot.Add.VerticalLine(m.X);
                line.LinePattern = LinePattern.Dashed;
                line.Color = Colors.Gray;
                line.LegendText = m.Label;
            }
            if (wholeX) plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.XLabel(xLabel);
            plot.YLabel(logY ? yLabel + " (log scale)" : yLabel);
            if (title is not null) plot.Title(title);
            if (logY) UseLogTicks(plot, decades: yMax - yMin);
            // Beside the data area, so that no curve is ever hidden behind it.
            plot.ShowLegend(Edge.Right);
            var bytes = plot.GetImage(width, height).GetImageBytes(ImageFormat.Png);
            AtomicFile.WriteAllBytes(path, bytes);
        }
        finally
        {
            plot.Dispose();
        }
    }

    // ScottPlot 5 has no log axis: the data are log10(y), and tick labels show 10^tick. Across a decade or more the
    // major ticks sit on whole powers of ten with log-spaced minor ticks; within less than a decade there would be
    // no whole power in view, so the ticks stay automatic (their labels are still the true values).
    private static void UseLogTicks(Plot plot, double decades)
    {
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
        if (decades >= 1)
        {
            ticks.IntegerTicksOnly = true;
            ticks.MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator();
        }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Grid.MinorLineWidth = 1;
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
    }
}
