using Dstar.Engine.Collection;
using ScottPlot;

namespace Dstar.Engine.Recording;

/// <summary>PNG plots of a run (ScottPlot): accuracy against round and against virtual time, round time, and a strip of which workers were kept or dropped in each round.</summary>
public static class Plots
{
    /// <summary>File names written by <see cref="WriteRun"/>.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["accuracy_by_round.png", "accuracy_by_time.png", "round_time.png", "workers.png"];

    /// <summary>Writes the four plots of one run into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> WriteRun(string directory, string title, IReadOnlyList<RoundRecord> history, int workerCount)
    {
        var series = new[] { (title, history) };
        var paths = new List<string>
        {
            Accuracy(Path.Combine(directory, FileNames[0]), series, byTime: false, title),
            Accuracy(Path.Combine(directory, FileNames[1]), series, byTime: true, title),
            RoundTime(Path.Combine(directory, FileNames[2]), history, title),
            Workers(Path.Combine(directory, FileNames[3]), history, workerCount, title),
        };
        return paths;
    }

    /// <summary>Accuracy of several runs on one plot, against round or against virtual time; returns the path.</summary>
    public static string Accuracy(string path, IEnumerable<(string Name, IReadOnlyList<RoundRecord> History)> runs, bool byTime, string title)
    {
        var plot = new Plot();
        foreach (var (name, history) in runs)
        {
            var evaluated = history.Where(r => r.Accuracy is not null).ToArray();
            if (evaluated.Length == 0)
            {
                continue;
            }

            var xs = evaluated.Select(r => byTime ? r.VirtualTime : r.Round + 1).ToArray();
            var ys = evaluated.Select(r => r.Accuracy!.Value).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = name;
            line.MarkerSize = 3;
        }

        plot.Title(title);
        plot.XLabel(byTime ? "virtual time (s)" : "round");
        plot.YLabel("test accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 540);
        return path;
    }

    /// <summary>Each round's duration (transport seconds); returns the path.</summary>
    public static string RoundTime(string path, IReadOnlyList<RoundRecord> history, string title)
    {
        var plot = new Plot();
        if (history.Count > 0)
        {
            var line = plot.Add.Scatter(history.Select(r => (double)r.Round).ToArray(), history.Select(r => r.RoundTime).ToArray());
            line.MarkerSize = 2;
            line.LineWidth = 1;
        }

        plot.Title(title + ": round time");
        plot.XLabel("round");
        plot.YLabel("round time (s)");
        plot.SavePng(path, 900, 540);
        return path;
    }

    /// <summary>One row per worker, one column per round, coloured by what happened to its gradient; returns the path.</summary>
    public static string Workers(string path, IReadOnlyList<RoundRecord> history, int workerCount, string title)
    {
        var categories = new (string Name, Color Color)[]
        {
            ("kept", Colors.SeaGreen), ("filtered by rule", Colors.OrangeRed), ("late", Colors.LightGray), ("stale/duplicate/malformed", Colors.Purple),
        };
        var xs = categories.Select(_ => new List<double>()).ToArray();
        var ys = categories.Select(_ => new List<double>()).ToArray();
        foreach (var r in history)
        {
            foreach (var w in r.Kept)
            {
                xs[0].Add(r.Round);
                ys[0].Add(w);
            }

            foreach (var w in r.Filtered)
            {
                xs[1].Add(r.Round);
                ys[1].Add(w);
            }

            foreach (var (w, reason) in r.Dropped)
            {
                int c = reason == DropReason.Late ? 2 : 3;
                xs[c].Add(r.Round);
                ys[c].Add(w);
            }
        }

        var plot = new Plot();
        for (int c = 0; c < categories.Length; c++)
        {
            if (xs[c].Count == 0)
            {
                continue;
            }

            var points = plot.Add.ScatterPoints(xs[c].ToArray(), ys[c].ToArray());
            points.Color = categories[c].Color;
            points.MarkerShape = MarkerShape.FilledSquare;
            points.MarkerSize = history.Count > 400 ? 2 : 4;
            points.LegendText = categories[c].Name;
        }

        plot.Title(title + ": workers per round");
        plot.XLabel("round");
        plot.YLabel("worker");
        plot.Axes.SetLimitsY(-1, workerCount);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, Math.Clamp(120 + 18 * workerCount, 300, 1200));
        return path;
    }
}

/// <summary>Writes the run's plots when it finishes.</summary>
public sealed class PlotSink(string directory) : IRunSink
{
    private readonly List<RoundRecord> _history = new();
    private RunInfo? _info;

    /// <summary>The plot paths written by <see cref="Finish"/>.</summary>
    public IReadOnlyList<string> Paths { get; private set; } = Array.Empty<string>();

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
        _info = info;
        _history.Clear();
        _history.AddRange(replayed);
    }

    /// <inheritdoc />
    public void Record(RoundRecord record) => _history.Add(record);

    /// <inheritdoc />
    public void Finish(RunSummary summary) =>
        Paths = Plots.WriteRun(directory, _info?.Name ?? summary.Name, _history, _info?.WorkerCount ?? 0);
}
