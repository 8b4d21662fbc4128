using System.Buffers;
using System.Text.Json;
using Dstar.Engine.Collection;
using Dstar.Engine.Recording;
using Dstar.View.Board;

namespace Dstar.View.Server;

/// <summary>
/// The JSON the endpoints and the event stream send (docs/view.md). A round is written with the keys and values of a
/// metrics.jsonl row, so a script can treat both alike; non-finite numbers are null.
/// </summary>
public static class ViewJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default };

    /// <summary><c>GET /api/runs</c>: every run's line, and the update counters.</summary>
    public static byte[] Runs(ViewBoard board) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("runs");
        foreach (var run in board.Runs)
        {
            RunLine(w, run.Snapshot());
        }

        w.WriteEndArray();
        w.WriteNumber("dropped_updates", board.DroppedUpdates);
        w.WriteNumber("listeners", board.ListenerCount);
        w.WriteBoolean("study", board.Study is not null);
        w.WriteBoolean("cluster", board.Cluster is not null);
        w.WriteEndObject();
    });

    /// <summary><c>GET /api/runs/{id}</c>: the run's line and its per-worker totals.</summary>
    public static byte[] Run(ViewRun run) => Write(w =>
    {
        var snapshot = run.Snapshot();
        w.WriteStartObject();
        RunFields(w, snapshot);
        w.WriteStartArray("worker_totals");
        foreach (var t in WorkerTotals.Of(snapshot.Info, run.Records()))
        {
            w.WriteStartObject();
            w.WriteNumber("worker", t.Worker);
            w.WriteBoolean("byzantine", t.Byzantine);
            w.WriteNumber("kept", t.Kept);
            w.WriteNumber("filtered", t.Filtered);
            w.WriteNumber("late", t.Late);
            w.WriteNumber("other_drops", t.OtherDrops);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary><c>GET /api/runs/{id}/rounds</c>: <c>{"run": id, "from": i, "rounds": [row, …]}</c>.</summary>
    public static byte[] Rounds(ViewRun run, int from, IReadOnlyList<RoundRecord> records, IReadOnlyList<RoundPhases?>? phases = null) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("run", run.Id);
        w.WriteNumber("from", from);
        w.WriteStartArray("rounds");
        for (int i = 0; i < records.Count; i++)
        {
            Round(w, records[i], phases is not null && i < phases.Count ? phases[i] : null);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>A run's line: id, name, state, round (rounds recorded), rounds (the target), and the latest numbers.</summary>
    public static void RunLine(Utf8JsonWriter w, RunSnapshot s)
    {
        w.WriteStartObject();
        RunFields(w, s);
        w.WriteEndObject();
    }

    /// <summary>The event stream's <c>rounds</c> event: <c>{"run": id, "rounds": [row, …]}</c>, a run's new rounds in order.</summary>
    public static void RoundsEvent(Utf8JsonWriter w, ViewRun run, IReadOnlyList<(RoundRecord Round, RoundPhases? Phases)> rows)
    {
        w.WriteStartObject();
        w.WriteNumber("run", run.Id);
        w.WriteStartArray("rounds");
        foreach (var (round, phases) in rows)
        {
            Round(w, round, phases);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>One round, as a metrics.jsonl row (the files' own writer, so the bytes are the same).</summary>
    public static void Round(Utf8JsonWriter w, RoundRecord r) => MetricsFiles.WriteJson(w, r);

    /// <summary>
    /// One round as a metrics.jsonl row, followed, when the view measured them, by <c>"phases": {"name": seconds, …}</c>
    /// (where the round's wall time went; docs/view.md).
    /// </summary>
    public static void Round(Utf8JsonWriter w, RoundRecord r, RoundPhases? phases)
    {
        if (phases is null)
        {
            MetricsFiles.WriteJson(w, r);
            return;
        }

        // The row is written by the files' writer, then reopened to add one member: the same bytes plus "phases".
        var row = new ArrayBufferWriter<byte>(1024);
        using (var inner = new Utf8JsonWriter(row, Options))
        {
            MetricsFiles.WriteJson(inner, r);
        }

        var bytes = row.WrittenSpan;
        int end = bytes.LastIndexOf((byte)'}');
        var extra = new ArrayBufferWriter<byte>(256);
        using (var inner = new Utf8JsonWriter(extra, Options))
        {
            inner.WriteStartObject();
            inner.WriteStartObject("phases");
            for (int i = 0; i < phases.Names.Count && i < phases.Seconds.Count; i++)
            {
                inner.WriteNumberOrNull(phases.Names[i], phases.Seconds[i]);
            }

            inner.WriteEndObject();
            inner.WriteEndObject();
        }

        // {row members} + , + "phases":{…} (the extra object without its braces).
        var spliced = new byte[end + 1 + extra.WrittenCount - 2 + 1];
        bytes[..end].CopyTo(spliced);
        spliced[end] = (byte)',';
        extra.WrittenSpan[1..^1].CopyTo(spliced.AsSpan(end + 1));
        spliced[^1] = (byte)'}';
        w.WriteRawValue(spliced);
    }

    /// <summary>Runs <paramref name="body"/> on a fresh writer and returns the UTF-8 bytes.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            body(w);
        }

        return buffer.ToArray();
    }

    private static void RunFields(Utf8JsonWriter w, RunSnapshot s)
    {
        w.WriteNumber("id", s.Id);
        w.WriteString("name", s.Name);
        w.WriteString("state", s.State.Name());
        w.WriteNumber("round", s.RoundCount);
        if (s.Info is { } info)
        {
            w.WriteNumber("rounds", info.Rounds);
            w.WriteNumber("workers", info.WorkerCount);
            Ints(w, "byzantine", info.Byzantine);
            w.WriteString("description", info.Description);
            w.WriteString("directory", info.Directory);
        }
        else
        {
            w.WriteNull("rounds");
            w.WriteNull("workers");
            w.WriteStartArray("byzantine");
            w.WriteEndArray();
            w.WriteNull("description");
            w.WriteNull("directory");
        }

        w.WriteNumberOrNull("loss", s.Last?.Loss);
        w.WriteNumberOrNull("accuracy", s.Summary?.FinalAccuracy ?? s.LastEvaluated?.Accuracy);
        w.WriteNumberOrNull("test_loss", s.Summary?.FinalTestLoss ?? s.LastEvaluated?.TestLoss);
        w.WriteNumberOrNull("virtual_time", s.Last?.VirtualTime);
        w.WriteNumberOrNull("wall_time", s.Last?.WallTime);
        w.WriteString("problem", s.Problem);
        if (s.Summary is { } summary)
        {
            w.WritePropertyName("summary");
            using var document = JsonDocument.Parse(SummaryFile.ToJson(summary));
            document.WriteTo(w);
        }
        else
        {
            w.WriteNull("summary");
        }
    }

    private static void Ints(Utf8JsonWriter w, string name, IReadOnlyList<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }

        w.WriteEndArray();
    }
}
