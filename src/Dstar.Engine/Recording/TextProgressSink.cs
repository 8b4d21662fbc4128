using System.Globalization;

namespace Dstar.Engine.Recording;

/// <summary>Plain-text progress for non-interactive output: one line every <c>every</c> rounds and at the end.</summary>
public sealed class TextProgressSink(TextWriter writer, int every) : IRunSink
{
    private RunInfo? _info;
    private double? _accuracy;

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
        _info = info;
        writer.WriteLine($"{info.Name}: {info.Description}" + (firstRound > 0 ? $" (resuming at round {firstRound})" : ""));
    }

    /// <inheritdoc />
    public void Record(RoundRecord r)
    {
        _accuracy = r.Accuracy ?? _accuracy;
        if ((r.Round + 1) % Math.Max(1, every) != 0 && r.Round + 1 != _info?.Rounds)
        {
            return;
        }

        var c = CultureInfo.InvariantCulture;
        writer.WriteLine(string.Create(c,
            $"  round {r.Round + 1}/{_info?.Rounds}  loss {r.Loss:F4}  accuracy {(_accuracy is { } a ? a.ToString("P1", c) : "–")}  virtual {r.VirtualTime:F1} s  kept {r.Kept.Count}  filtered {r.Filtered.Count}  dropped {r.Dropped.Count}"));
    }

    /// <inheritdoc />
    public void Finish(RunSummary summary)
    {
    }
}
