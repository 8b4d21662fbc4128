using System.Globalization;
using System.Text;
using ScottPlot;

namespace Dstar.Studies.Report;

/// <summary>
/// The part of the report for a study that varies <c>k</c> (experiments/studies/stragglers.yaml): per panel (every
/// varying key but k and delay, e.g. the attack case), time to target against k with one line per delay model, rounds
/// to target against k, and per delay model accuracy against virtual time with one curve per k. <c>k: auto</c> is drawn
/// as a star at the mean k it used. A markdown table compares auto with the best static k and with k = N.
/// </summary>
public static class KReport
{
    /// <summary>The varying key this part is about.</summary>
    public const string Key = "k";

    /// <summary>The key that becomes the lines of a panel when it varies.</summary>
    public const string LineKey = "delay";

    /// <summary>The value of <c>k</c> that means adaptive.</summary>
    public const string Auto = "auto";

    private sealed record Line(string Label, IReadOnlyList<CellResult> Cells);

    /// <summary>Writes the figures into <paramref name="folder"/>/k; returns them and the markdown (empty without k).</summary>
    public static (IReadOnlyList<(string Title, string Path)> Images, string Markdown) Write(StudyResults results, string folder)
    {
        if (!results.Index.VaryingKeys.Contains(Key))
        {
            return ([], "");
        }

        var images = new List<(string, string)>();
        var md = new StringBuilder();
        md.Append("## Time to ").Append(Percent(results.Index.TargetAccuracy)).Append(" accuracy against k\n\n");
        md.Append("Virtual seconds (rounds) to the first evaluation at the target, mean over the seeds that reached it; ");
        md.Append("`auto` gives the mean k it used. auto/best is auto's time over the best static k's, N/auto is k = N's over auto's.\n\n");
        var directory = Path.Combine(folder, "k");
        Directory.CreateDirectory(directory);
        bool byLine = results.Index.VaryingKeys.Contains(LineKey);
        var panels = results.Selected
            .GroupBy(c => Label(c, excluded: byLine ? [Key, LineKey] : [Key]))
            .ToArray();
        int figure = 0;
        foreach (var panel in panels)
        {
            var lines = panel
                .GroupBy(c => byLine ? c.Cell.Keys[LineKey] : "all")
                .Select(g => new Line(g.Key, g.ToArray()))
                .ToArray();
            var ks = panel.Select(c => c.Cell.Keys[Key]).Where(k => k != Auto).Distinct()
                .OrderBy(k => int.Parse(k, CultureInfo.InvariantCulture)).ToArray();
            string title = panel.Key.Length == 0 ? "all cells" : panel.Key;
            figure++;
            var timePath = Path.Combine(directory, $"{figure:D2}-time-to-target.png");
            images.Add(($"{title}: time to target against k (relative to the best static k)", Against(timePath, title, lines, ks, relative: true, results.Index.TargetAccuracy)));
            var roundsPath = Path.Combine(directory, $"{figure:D2}-rounds-to-target.png");
            images.Add(($"{title}: rounds to target against k", Against(roundsPath, title, lines, ks, relative: false, results.Index.TargetAccuracy)));
            md.Append("### ").Append(title).Append("\n\n");
            md.Append(Table(lines, ks));
            md.Append('\n');
            int curve = 0;
            foreach (var line in lines)
            {
                curve++;
                var series = line.Cells
                    .OrderBy(c => c.Cell.Keys[Key] == Auto ? int.MaxValue : int.Parse(c.Cell.Keys[Key], CultureInfo.InvariantCulture))
                    .Select(c => ("k = " + c.Cell.Keys[Key], c.Runs))
                    .ToArray();
                var name = $"{line.Label}; {title}";
                var path = Path.Combine(directory, $"{figure:D2}-{curve:D2}-accuracy-by-time.png");

                // k = N under heavy tails runs 10× longer than the rest: the axis stops at 1.2× the second-longest run,
                // so the others stay readable (the slowest curve is cut, its time to target is in the table).
                var ends = series.Select(s => s.Runs.Count == 0 ? 0 : s.Runs.Average(r => r.VirtualSeconds)).OrderDescending().ToArray();
                double? xMax = ends.Length > 1 && ends[0] > 2 * ends[1] ? 1.2 * ends[1] : null;
                var caption = xMax is null ? name : $"{name} (axis cut)";
                images.Add(($"{name}: accuracy against virtual time per k", ReportPlots.Curves(path, Shorten(caption), series, byTime: true, xMax)));
            }
        }

        return (images, md.ToString());
    }

    private static string Label(CellResult cell, string[] excluded) =>
        string.Join(", ", cell.Cell.Keys.Where(p => !excluded.Contains(p.Key)).Select(p => $"{p.Key}={p.Value}"));

    private static double? Seconds(CellResult? c) => c?.TimeToTargetSeconds.Mean;

    private static CellResult? Find(Line line, string k) => line.Cells.FirstOrDefault(c => c.Cell.Keys[Key] == k);

    /// <summary>The best static k of a line: the one with the least time to target, or null when none reached it.</summary>
    private static (string K, double Seconds)? Best(Line line, IReadOnlyList<string> ks)
    {
        (string, double)? best = null;
        foreach (var k in ks)
        {
            if (Seconds(Find(line, k)) is { } s && (best is null || s < best.Value.Item2))
            {
                best = (k, s);
            }
        }

        return best;
    }

    private static string Table(IReadOnlyList<Line> lines, IReadOnlyList<string> ks)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("| ").Append(LineKey).Append(" | ").Append(string.Join(" | ", ks.Select(k => "k = " + k))).Append(" | auto | best static | auto/best | N/auto |\n");
        sb.Append("|---|").Append(string.Concat(Enumerable.Repeat("---|", ks.Count + 4))).Append('\n');
        foreach (var line in lines)
        {
            sb.Append("| ").Append(line.Label.Replace("|", "\\|", StringComparison.Ordinal)).Append(" | ");
            foreach (var k in ks)
            {
                sb.Append(Cell(Find(line, k))).Append(" | ");
            }

            var auto = Find(line, Auto);
            sb.Append(Cell(auto));
            if (MeanK(auto) is { } meanK)
            {
                sb.Append(string.Create(c, $", k̄ = {meanK:F1}"));
            }

            var best = Best(line, ks);
            sb.Append(" | ").Append(best is { } b ? string.Create(c, $"k = {b.K}: {b.Seconds:F0} s") : "—");
            sb.Append(" | ").Append(best is { } bb && Seconds(auto) is { } a ? string.Create(c, $"{a / bb.Seconds:F2}") : "—");
            var full = ks.Count > 0 ? Seconds(Find(line, ks[^1])) : null;
            sb.Append(" | ").Append(full is { } f && Seconds(auto) is { } a2 ? string.Create(c, $"{f / a2:F2}×") : "—");
            sb.Append(" |\n");
        }

        return sb.ToString();
    }

    /// <summary>The mean over the cell's seeds of each run's mean k (k: auto), or null when no run recorded one.</summary>
    private static double? MeanK(CellResult? cell)
    {
        var means = cell?.Runs.Select(r => r.MeanK).OfType<double>().ToArray() ?? [];
        return means.Length > 0 ? means.Average() : null;
    }

    private static string Cell(CellResult? cell)
    {
        if (cell is null || cell.Runs.Count == 0)
        {
            return "—";
        }

        var c = CultureInfo.InvariantCulture;
        return cell.TimeToTargetSeconds.Mean is { } s
            ? string.Create(c, $"{s:F0} s ({cell.TimeToTargetRounds.Mean:F0})")
            : string.Create(c, $"not reached (final {100 * cell.FinalAccuracy.Mean:F1} %)");
    }

    /// <summary>
    /// Time to target (relative to each line's best static k) or rounds to target against k, one line per delay model;
    /// auto as a star at its mean k. Cells that never reached the target are left out.
    /// </summary>
    private static string Against(string path, string title, IReadOnlyList<Line> lines, IReadOnlyList<string> ks, bool relative, double target)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var color = palette.GetColor(i);
            var best = Best(line, ks);
            // Ratios span 1 to 10+ (k = N under heavy tails): drawn on a log scale.
            double? Y(CellResult? c) => relative
                ? (Seconds(c) is { } s && best is { } b ? Math.Log10(s / b.Seconds) : null)
                : c?.TimeToTargetRounds.Mean;
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (var k in ks)
            {
                if (Y(Find(line, k)) is { } y)
                {
                    xs.Add(int.Parse(k, CultureInfo.InvariantCulture));
                    ys.Add(y);
                }
            }

            if (xs.Count > 0)
            {
                var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
                scatter.Color = color;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 7;
                scatter.LegendText = line.Label;
            }

            var auto = Find(line, Auto);
            if (Y(auto) is { } autoY && MeanK(auto) is { } meanK)
            {
                var star = plot.Add.Marker(meanK, autoY);
                star.Color = color;
                star.Shape = MarkerShape.FilledDiamond;
                star.Size = 14;
            }
        }

        if (relative)
        {
            var one = plot.Add.HorizontalLine(0);
            one.Color = Colors.Gray;
            one.LinePattern = LinePattern.Dashed;
            double[] ratios = [0.8, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50];
            plot.Axes.Left.SetTicks(ratios.Select(Math.Log10).ToArray(), ratios.Select(r => r.ToString("0.##", CultureInfo.InvariantCulture) + "×").ToArray());
        }

        plot.Title(Shorten(title));
        plot.XLabel("k (diamond: k: auto at the mean k it used)");
        plot.YLabel(relative
            ? $"virtual time to {Percent(target)} / best static k's (log)"
            : $"rounds to {Percent(target)}");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 520);
        return path;
    }

    private static string Percent(double value) => (100 * value).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string Shorten(string text) => text.Length <= 90 ? text : text[..87] + "...";
}
