using System.Diagnostics;
using System.Globalization;
using Dstar.Engine.Recording;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Dstar.Cli.Output;

/// <summary>
/// A live progress table (Spectre.Console): round, validation loss, last test accuracy, virtual time, and the kept and
/// dropped counts of the last round. The caller runs the work inside <c>AnsiConsole.Live(sink.View).StartAsync(...)</c>
/// and hands the context to <see cref="Context"/>; redraws are throttled to a few per second.
/// </summary>
public sealed class LiveProgressSink : IRunSink
{
    private readonly Table _table;
    private readonly Stopwatch _sinceRefresh = Stopwatch.StartNew();
    private RunInfo? _info;
    private double? _accuracy;

    /// <summary>Creates the table.</summary>
    public LiveProgressSink()
    {
        _table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "run", "round", "loss", "accuracy", "virtual time", "kept", "filtered", "dropped" })
        {
            _table.AddColumn(new TableColumn(column).RightAligned());
        }

        _table.AddRow("", "", "", "", "", "", "", "");
    }

    /// <summary>What to pass to <c>AnsiConsole.Live</c>.</summary>
    public IRenderable View => _table;

    /// <summary>The live display context, set by the caller once the display started.</summary>
    public LiveDisplayContext? Context { get; set; }

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
        _info = info;
        _accuracy = replayed.LastOrDefault(r => r.Accuracy is not null)?.Accuracy;
        _table.Caption = new TableTitle(Markup.Escape(info.Description));
    }

    /// <inheritdoc />
    public void Record(RoundRecord r)
    {
        _accuracy = r.Accuracy ?? _accuracy;
        if (_sinceRefresh.ElapsedMilliseconds < 200 && r.Round + 1 < (_info?.Rounds ?? 0))
        {
            return;
        }

        Update(r);
    }

    /// <inheritdoc />
    public void Finish(RunSummary summary) => Context?.Refresh();

    private void Update(RoundRecord r)
    {
        var c = CultureInfo.InvariantCulture;
        var cells = new[]
        {
            Markup.Escape(_info?.Name ?? ""),
            $"{r.Round + 1}/{_info?.Rounds}",
            double.IsFinite(r.Loss) ? r.Loss.ToString("F4", c) : "–",
            _accuracy is { } a ? a.ToString("P1", c) : "–",
            r.VirtualTime.ToString("F1", c) + " s",
            r.Kept.Count.ToString(c),
            r.Filtered.Count.ToString(c),
            r.Dropped.Count.ToString(c),
        };
        for (int i = 0; i < cells.Length; i++)
        {
            _table.UpdateCell(0, i, cells[i]);
        }

        Context?.Refresh();
        _sinceRefresh.Restart();
    }
}
