using System.Globalization;
using ScottPlot;

namespace Dstar.Studies.Report;

/// <summary>The report's figures (ScottPlot PNG): worst-case heatmaps and accuracy curves with a band over seeds.</summary>
public static class ReportPlots
{
    /// <summary>
    /// A heatmap of worst-case accuracy: one row per rule (first rule on top), one column per value, each cell coloured
    /// on a fixed 0–100 % scale and labelled with its value in percent (blank: no finished run).
    /// </summary>
    public static string Heatmap(string path, string title, string xLabel, IReadOnlyList<string> rules, IReadOnlyList<string> values, double?[,] worst)
    {
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int r = 0; r < rules.Count; r++)
        {
            double y = rules.Count - 1 - r;
            for (int v = 0; v < values.Count; v++)
            {
                var rectangle = plot.Add.Rectangle(v - 0.5, v + 0.5, y - 0.5, y + 0.5);
                rectangle.LineWidth = 1;
                rectangle.LineColor = Colors.White;
                if (worst[r, v] is { } accuracy)
                {
                    var fill = colormap.GetColor(Math.Clamp(accuracy, 0, 1));
                    rectangle.FillColor = fill;
                    var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{100 * accuracy:F1}"), v, y);
                    label.LabelFontSize = 14;
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontColor = accuracy > 0.6 ? Colors.Black : Colors.White;
                }
                else
                {
                    rectangle.FillColor = Colors.LightGray;
                }
            }
        }

        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, values.Count).Select(i => (double)i).ToArray(), values.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rules.Count).Select(i => (double)(rules.Count - 1 - i)).ToArray(), rules.ToArray());
        plot.Axes.SetLimits(-0.5, values.Count - 0.5, -0.5, rules.Count - 0.5);
        plot.Title(title);
        plot.XLabel(xLabel);
        // The title is centred over the cells, right of the rule labels: leave room for both (about 8 px a character
        // at ScottPlot's default title and tick fonts), or a long title is cut at the image's edge.
        int labels = 8 * rules.Select(r => r.Length).DefaultIfEmpty(0).Max();
        int width = Math.Max(300 + 150 * values.Count, labels + (10 * title.Length) + 40);
        plot.SavePng(path, Math.Clamp(width, 760, 2000), Math.Clamp(140 + 36 * rules.Count, 300, 1200));
        return path;
    }

    /// <summary>
    /// Accuracy against rounds (or virtual time) for several rules: the mean over seeds as a line and the min–max over
    /// seeds as a band. Points are matched by evaluation index; against time, x is the seeds' mean virtual time at that
    /// evaluation.
    /// </summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="title">The title.</param>
    /// <param name="series">One curve per name, each over its runs (seeds).</param>
    /// <param name="byTime">Against virtual time rather than rounds.</param>
    /// <param name="xMax">Cuts the x axis there (null: everything shows).</param>
    public static string Curves(string path, string title, IReadOnlyList<(string Rule, IReadOnlyList<RunResult> Runs)> series, bool byTime, double? xMax = null)
    {
        var plot = new Plot();
        // Ten colours repeat past ten rules (the robustness study has twelve): then twenty.
        IPalette palette = series.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        for (int s = 0; s < series.Count; s++)
        {
            var (rule, runs) = series[s];
            int length = runs.Count == 0 ? 0 : runs.Max(r => r.Curve.Count);
            var xs = new List<double>();
            var mean = new List<double>();
            var low = new List<double>();
            var high = new List<double>();
            for (int i = 0; i < length; i++)
            {
                var points = runs.Where(r => r.Curve.Count > i).Select(r => r.Curve[i]).ToArray();
                xs.Add(byTime ? points.Average(p => p.VirtualTime) : points[0].Round + 1);
                mean.Add(points.Average(p => p.Accuracy));
                low.Add(points.Min(p => p.Accuracy));
                high.Add(points.Max(p => p.Accuracy));
            }

            if (xs.Count == 0)
            {
                continue;
            }

            var color = palette.GetColor(s);
            if (xs.Count > 1)
            {
                var band = plot.Add.FillY(xs.ToArray(), low.ToArray(), high.ToArray());
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
            }

            var line = plot.Add.Scatter(xs.ToArray(), mean.ToArray());
            line.Color = color;
            line.MarkerSize = 3;
            line.LineWidth = 2;
            line.LegendText = rule;
        }

        plot.Title(title);
        plot.XLabel(byTime ? "virtual time (s)" : "round");
        plot.YLabel("test accuracy");
        plot.Axes.SetLimitsY(0, 1);
        if (xMax is { } limit)
        {
            plot.Axes.SetLimitsX(0, limit);
        }

        // Beside the axes, not over them: a legend of a dozen rules hid the curves' ends.
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1150, 500);
        return path;
    }
}
