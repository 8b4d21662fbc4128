using System.Globalization;
using ScottPlot;

namespace Dstar.Engine.Guarantees;

/// <summary>PNG plots of a resilience study (ScottPlot): the implied α per rule and attack, and ⟨E[G], g⟩/‖g‖² against f per rule.</summary>
public static class ResiliencePlots
{
    /// <summary>
    /// A heatmap with one row per rule and one column per attack: the implied α in degrees (darker is worse),
    /// "fails" where the interval's lower end of ⟨E[G], g⟩/‖g‖² is ≤ 0, and "n/a" where the rule refused n and f.
    /// Attack "none" is the column without Byzantine workers; the others are at <paramref name="byzantine"/>.
    /// </summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="results">The cells of one partition and point.</param>
    /// <param name="rules">Row order.</param>
    /// <param name="attacks">Column order.</param>
    /// <param name="byzantine">The f of the attack columns.</param>
    /// <param name="title">The plot title.</param>
    /// <param name="ball">Show the ball condition's α (<see cref="ResilienceReport.BallAlphaDegrees"/>) instead of the angle condition's.</param>
    public static string AlphaHeatmap(string path, IReadOnlyList<ResilienceResult> results, IReadOnlyList<string> rules, IReadOnlyList<string> attacks, int byzantine, string title, bool ball = false)
    {
        var values = new double[rules.Count, attacks.Count];
        var labels = new string[rules.Count, attacks.Count];
        for (int i = 0; i < rules.Count; i++)
        {
            for (int j = 0; j < attacks.Count; j++)
            {
                var cell = results.FirstOrDefault(r => r.Rule == rules[i] && r.Attack == attacks[j] && (attacks[j] == "none" ? r.Byzantine == 0 : r.Byzantine == byzantine));
                (values[i, j], labels[i, j]) = cell?.Report switch
                {
                    null => (double.NaN, "n/a"),
                    { } report when (ball ? report.BallAlphaDegrees : report.Holds ? report.AlphaUpperDegrees : null) is not { } alpha => (90, "fails"),
                    { } report => Cell(ball ? report.BallAlphaDegrees!.Value : report.AlphaUpperDegrees!.Value),
                };
            }
        }

        return Heatmap(path, rules, attacks.Select(a => a == "none" ? "none (f = 0)" : a).ToArray(), values, labels, title,
            ball ? "α of ‖E[G] − g‖ ≤ sin α·‖g‖ (degrees, upper end)" : "α of ⟨E[G], g⟩ ≥ (1 − sin α)‖g‖² (degrees, upper end)");
    }

    /// <summary>
    /// A heatmap of angles in degrees on a fixed 0–90° viridis scale (dark purple 0°, yellow 90°): one row per
    /// <paramref name="rows"/> entry (the first on top), one column per <paramref name="columns"/> entry, each cell
    /// coloured by <paramref name="values"/> (NaN: grey) and labelled with <paramref name="labels"/>.
    /// </summary>
    public static string Heatmap(string path, IReadOnlyList<string> rows, IReadOnlyList<string> columns, double[,] values, string[,] labels, string title, string scale)
    {
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 90);
        heatmap.NaNCellColor = Colors.LightGray;
        // The position rectangle holds the centres of the corner cells: cell (i, j) is centred on (j, rows − 1 − i).
        heatmap.Position = new CoordinateRect(0, columns.Count - 1, 0, rows.Count - 1);
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < columns.Count; j++)
            {
                var text = plot.Add.Text(labels[i, j], j, rows.Count - 1 - i);
                text.LabelFontSize = 11;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = double.IsNaN(values[i, j]) || values[i, j] > 45 ? Colors.Black : Colors.White;
                text.LabelBold = true;
            }
        }

        plot.Add.ColorBar(heatmap).Label = scale;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns.Count).Select(j => (double)j).ToArray(), columns.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 120;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), rows.ToArray());
        plot.Axes.SetLimits(-0.5, columns.Count - 0.5, -0.5, rows.Count - 0.5);
        plot.Title(title);
        plot.SavePng(path, Math.Max(800, 300 + (95 * columns.Count)), Math.Max(420, 300 + (34 * rows.Count)));
        return path;
    }

    private static (double, string) Cell(double alpha) => (alpha, string.Create(CultureInfo.InvariantCulture, $"{alpha:F0}°"));

    /// <summary>
    /// Per rule, the worst ⟨E[G], g⟩/‖g‖² over the attacks (not "none") against f, with 0 (no α works below it) and 1
    /// (unbiased) marked. The axis stops at −1.5; worse values run off the chart.
    /// </summary>
    public static string RatioByByzantine(string path, IReadOnlyList<ResilienceResult> results, IReadOnlyList<string> rules, string title)
    {
        var plot = new Plot();
        var fs = results.Where(r => r.Attack != "none").Select(r => r.Byzantine).Distinct().Order().ToArray();
        var palette = new ScottPlot.Palettes.Category20();
        int index = 0;
        foreach (var rule in rules)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (int f in fs)
            {
                var reports = results.Where(r => r.Rule == rule && r.Byzantine == f && r.Attack != "none" && r.Report is not null).Select(r => r.Report!.Ratio.Estimate).ToArray();
                if (reports.Length > 0)
                {
                    xs.Add(f);
                    ys.Add(reports.Min());
                }
            }

            if (xs.Count == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            line.LegendText = rule;
            line.Color = palette.GetColor(index++);
            line.MarkerSize = 6;
            line.LineWidth = 2;
        }

        var zero = plot.Add.HorizontalLine(0);
        zero.Color = Colors.Black;
        zero.LinePattern = LinePattern.Dashed;
        var one = plot.Add.HorizontalLine(1);
        one.Color = Colors.Gray;
        one.LinePattern = LinePattern.Dotted;
        plot.Axes.SetLimitsY(-1.5, 1.3);
        plot.Title(title);
        plot.XLabel("f (Byzantine workers)");
        plot.YLabel("worst ⟨E[G], g⟩ / ‖g‖² over attacks");
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 1000, 600);
        return path;
    }
}
