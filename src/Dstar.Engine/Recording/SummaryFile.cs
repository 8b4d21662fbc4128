using System.Text.Json;

namespace Dstar.Engine.Recording;

/// <summary>Writes summary.json when the run finishes (keys in snake_case; undefined ratios are null), whole or not at all (<see cref="AtomicFile"/>).</summary>
public sealed class SummaryFile(string directory) : IRunSink
{
    /// <summary>summary.json.</summary>
    public const string FileName = "summary.json";

    /// <summary>The path written.</summary>
    public string Path { get; } = System.IO.Path.Combine(directory, FileName);

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
    }

    /// <inheritdoc />
    public void Record(RoundRecord record)
    {
    }

    /// <inheritdoc />
    public void Finish(RunSummary summary) => AtomicFile.WriteAllText(Path, ToJson(summary) + "\n");

    /// <summary>The summary as indented JSON.</summary>
    public static string ToJson(RunSummary s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteNumberOrNull("final_accuracy", s.FinalAccuracy);
            w.WriteNumberOrNull("best_accuracy", s.BestAccuracy);
            w.WriteNumberOrNull("final_test_loss", s.FinalTestLoss);
            w.WriteNumber("rounds", s.Rounds);
            w.WriteNumberOrNull("virtual_seconds", s.VirtualSeconds);
            w.WriteNumberOrNull("wall_seconds", s.WallSeconds);
            w.WriteNumberOrNull("mean_round_virtual_seconds", s.MeanRoundVirtualSeconds);
            w.WriteNumberOrNull("filter_precision", s.FilterPrecision);
            w.WriteNumberOrNull("filter_recall", s.FilterRecall);
            w.WriteNumberOrNull("byzantine_kept_fraction", s.ByzantineKeptFraction);
            w.WriteNumber("byzantine_kept", s.ByzantineKept);
            w.WriteNumber("byzantine_accepted", s.ByzantineAccepted);
            if (s.StoppedAtRound is { } stopped)
            {
                w.WriteNumber("stopped_at_round", stopped);
                w.WriteString("stop_reason", s.StopReason);
            }
            else
            {
                w.WriteNull("stopped_at_round");
                w.WriteNull("stop_reason");
            }

            w.WriteStartObject("drops");
            foreach (var (reason, count) in s.Drops.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(reason, count);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
