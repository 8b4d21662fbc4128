using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dstar.Engine.Collection;

namespace Dstar.Engine.Recording;

/// <summary>
/// Writes metrics.jsonl and metrics.csv in the run directory, one row per round. Rows reach the disk at least every
/// two seconds, and always before a checkpoint is written (<see cref="Flush"/>), so a killed run keeps every row its
/// checkpoint covers; resume recomputes the rest. Numbers use the invariant culture and the shortest round-trip form, so the same run
/// gives byte-identical files except the <c>wall_time</c> column (and, on the cluster, the wall-clock phase columns of
/// <see cref="Server.RoundTiming"/>, which a simulation leaves empty). Columns: see <see cref="Columns"/>.
/// </summary>
public sealed class MetricsFiles : IRunSink, IDisposable
{
    /// <summary>metrics.jsonl.</summary>
    public const string JsonLinesName = "metrics.jsonl";

    /// <summary>metrics.csv.</summary>
    public const string CsvName = "metrics.csv";

    /// <summary>The columns, in order (lists in the CSV are separated by ';', drops written as worker:reason).</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "round", "virtual_time", "round_time", "wall_time", "loss", "accuracy", "test_loss",
        "byzantine_accepted", "byzantine_kept", "aggregate_norm", "accepted", "kept", "filtered", "dropped", "kept_exact",
        "k", "k_reason",
        .. Server.RoundTiming.Columns,
    ];

    // CSV rows reach the disk on the two-second flush, not each time a small default buffer fills.
    private const int FileBufferSize = 1 << 16;

    private readonly string _directory;
    private readonly System.Diagnostics.Stopwatch _sinceFlush = new();
    private readonly ArrayBufferWriter<byte> _jsonRow = new(1024);
    private FileStream? _json;
    private Utf8JsonWriter? _jsonWriter;
    private StreamWriter? _csv;

    /// <summary>Writes into <paramref name="directory"/> (created when missing).</summary>
    public MetricsFiles(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
        Dispose();

        // New files are written beside the old ones and renamed over them once they hold every replayed row, so a
        // crash while resuming never loses a row that was on disk. (The open streams follow the rename.)
        _json = new FileStream(Path.Combine(_directory, JsonLinesName + ".tmp"), FileMode.Create, FileAccess.Write, FileShare.Read, FileBufferSize);
        // The writer fills an in-memory row that is then appended to the file, newline included, in one write.
        _jsonRow.ResetWrittenCount();
        _jsonWriter = new Utf8JsonWriter(_jsonRow, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _csv = Open(CsvName + ".tmp");
        _csv.Write(string.Join(",", Columns) + "\n");
        foreach (var record in replayed)
        {
            Write(record);
        }

        Flush();
        _json.Flush(flushToDisk: true);
        ((FileStream)_csv.BaseStream).Flush(flushToDisk: true);
        File.Move(Path.Combine(_directory, JsonLinesName + ".tmp"), Path.Combine(_directory, JsonLinesName), overwrite: true);
        File.Move(Path.Combine(_directory, CsvName + ".tmp"), Path.Combine(_directory, CsvName), overwrite: true);
    }

    /// <inheritdoc />
    public void Record(RoundRecord record)
    {
        Write(record);
        if (_sinceFlush.Elapsed.TotalSeconds >= 2)
        {
            Flush();
        }
    }

    /// <inheritdoc />
    public void Finish(RunSummary summary) => Dispose();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_json is not null)
        {
            Flush();
        }

        _jsonWriter?.Dispose();
        _jsonWriter = null;
        _json?.Dispose();
        _csv?.Dispose();
        _json = null;
        _csv = null;
    }

    /// <summary>Reads metrics.jsonl back (resume): the rows with round &lt; <paramref name="beforeRound"/>, which come first.</summary>
    /// <exception cref="InvalidDataException">one of those lines is not a metrics row; the message names the file and line.</exception>
    public static IReadOnlyList<RoundRecord> Read(string directory, long beforeRound)
    {
        var path = Path.Combine(directory, JsonLinesName);
        var rows = new List<RoundRecord>();
        if (!File.Exists(path))
        {
            return rows;
        }

        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            // Rows come in round order: once those the checkpoint covers are read, the rest (which resume recomputes,
            // and whose last line a killed run may have left half-written) is not looked at.
            if (rows.Count >= beforeRound)
            {
                break;
            }

            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            RoundRecord record;
            try
            {
                record = Parse(line);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}, line {lineNumber}: not a metrics row ({e.Message})");
            }

            if (record.Round < beforeRound)
            {
                rows.Add(record);
            }
        }

        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Round != i)
            {
                throw new InvalidDataException($"{path}: expected round {i} at row {i + 1}, found round {rows[i].Round}");
            }
        }

        return rows;
    }

    private StreamWriter Open(string name) =>
        new(new FileStream(Path.Combine(_directory, name), FileMode.Create, FileAccess.Write, FileShare.Read, FileBufferSize), new UTF8Encoding(false), FileBufferSize) { NewLine = "\n" };

    /// <summary>Pushes every row written so far to the files.</summary>
    public void Flush()
    {
        _json?.Flush();
        _csv?.Flush();
        _sinceFlush.Restart();
    }

    private void Write(RoundRecord r)
    {
        var w = _jsonWriter!;
        WriteJson(w, r);
        w.Flush();
        w.Reset();

        // Each JSON row reaches the file when written (one write call per round): a server that saves checkpoints
        // without calling Flush (the cluster's) relies on metrics.jsonl holding every row its checkpoint covers.
        _json!.Write(_jsonRow.WrittenSpan);
        _jsonRow.ResetWrittenCount();
        _json.WriteByte((byte)'\n');
        _json.Flush();

        // The CSV row is written field by field, formatted into a stack buffer (no per-row strings).
        var c = _csv!;
        Integer(c, r.Round);
        c.Write(',');
        Real(c, r.VirtualTime);
        c.Write(',');
        Real(c, r.RoundTime);
        c.Write(',');
        Real(c, r.WallTime);
        c.Write(',');
        Real(c, r.Loss);
        c.Write(',');
        Real(c, r.Accuracy);
        c.Write(',');
        Real(c, r.TestLoss);
        c.Write(',');
        Integer(c, r.ByzantineAccepted);
        c.Write(',');
        Integer(c, r.ByzantineKept);
        c.Write(',');
        Real(c, r.AggregateNorm);
        c.Write(',');
        IntegerList(c, r.Accepted);
        c.Write(',');
        IntegerList(c, r.Kept);
        c.Write(',');
        IntegerList(c, r.Filtered);
        c.Write(',');
        for (int i = 0; i < r.Dropped.Count; i++)
        {
            if (i > 0)
            {
                c.Write(';');
            }

            Integer(c, r.Dropped[i].Worker);
            c.Write(':');
            c.Write(r.Dropped[i].Reason.Name());
        }

        c.Write(',');
        c.Write(r.KeptIsExact ? "true" : "false");
        c.Write(',');
        Integer(c, r.K);
        c.Write(',');
        if (r.KReason is not null)
        {
            // The reason is one line without commas; any comma is replaced so the row keeps its columns.
            c.Write(r.KReason.Replace(',', ';'));
        }

        var timing = r.Timing?.Values();
        for (int i = 0; i < Server.RoundTiming.Columns.Count; i++)
        {
            c.Write(',');
            Real(c, timing?[i]);
        }

        c.Write('\n');
    }

    private static void Integer(StreamWriter writer, long value)
    {
        Span<char> text = stackalloc char[24];
        value.TryFormat(text, out int written, default, CultureInfo.InvariantCulture);
        writer.Write(text[..written]);
    }

    private static void IntegerList(StreamWriter writer, IReadOnlyList<int> values)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(';');
            }

            Integer(writer, values[i]);
        }
    }

    /// <summary>The shortest round-trip form, or nothing for a missing or non-finite value.</summary>
    private static void Real(StreamWriter writer, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            Span<char> text = stackalloc char[64];
            if (v.TryFormat(text, out int written, "R", CultureInfo.InvariantCulture))
            {
                writer.Write(text[..written]);
            }
            else
            {
                writer.Write(v.ToString("R", CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>
    /// One round as a metrics.jsonl row (one JSON object, no line end): the one definition of the row that the files
    /// and the live view (its round endpoints) share, so a reader gets the same bytes from either.
    /// </summary>
    public static void WriteJson(Utf8JsonWriter w, RoundRecord r)
    {
        w.WriteStartObject();
        w.WriteNumber("round", r.Round);
        w.WriteNumberOrNull("virtual_time", r.VirtualTime);
        w.WriteNumberOrNull("round_time", r.RoundTime);
        w.WriteNumberOrNull("wall_time", r.WallTime);
        w.WriteNumberOrNull("loss", r.Loss);
        w.WriteNumberOrNull("accuracy", r.Accuracy);
        w.WriteNumberOrNull("test_loss", r.TestLoss);
        w.WriteNumber("byzantine_accepted", r.ByzantineAccepted);
        w.WriteNumber("byzantine_kept", r.ByzantineKept);
        w.WriteNumberOrNull("aggregate_norm", r.AggregateNorm);
        Ints(w, "accepted", r.Accepted);
        Ints(w, "kept", r.Kept);
        Ints(w, "filtered", r.Filtered);
        w.WriteStartArray("dropped");
        for (int i = 0; i < r.Dropped.Count; i++)
        {
            var (worker, reason) = r.Dropped[i];
            w.WriteStartObject();
            w.WriteNumber("worker", worker);
            w.WriteString("reason", reason.Name());
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteBoolean("kept_exact", r.KeptIsExact);
        w.WriteNumber("k", r.K);
        if (r.KReason is null)
        {
            w.WriteNull("k_reason");
        }
        else
        {
            w.WriteString("k_reason", r.KReason);
        }

        // Wall-clock seconds of the round's phases (the cluster); null in simulation, whose rows stay deterministic.
        var timing = r.Timing?.Values();
        for (int i = 0; i < Server.RoundTiming.Columns.Count; i++)
        {
            w.WriteNumberOrNull(Server.RoundTiming.Columns[i], timing?[i]);
        }

        w.WriteEndObject();
    }

    private static void Ints(Utf8JsonWriter w, string name, IReadOnlyList<int> values)
    {
        w.WriteStartArray(name);
        for (int i = 0; i < values.Count; i++)
        {
            w.WriteNumberValue(values[i]);
        }

        w.WriteEndArray();
    }

    private static RoundRecord Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var e = doc.RootElement;
        double? Opt(string n) => e.GetProperty(n).ValueKind == JsonValueKind.Null ? null : e.GetProperty(n).GetDouble();
        int[] IntList(string n) => e.GetProperty(n).EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var dropped = e.GetProperty("dropped").EnumerateArray()
            .Select(x => (x.GetProperty("worker").GetInt32(), ParseReason(x.GetProperty("reason").GetString())))
            .ToArray();
        return new RoundRecord(
            e.GetProperty("round").GetInt64(),
            e.GetProperty("virtual_time").GetDouble(),
            e.GetProperty("round_time").GetDouble(),
            Opt("wall_time") ?? 0,
            Opt("loss") ?? double.NaN,
            Opt("accuracy"),
            Opt("test_loss"),
            IntList("accepted"),
            IntList("kept"),
            IntList("filtered"),
            dropped,
            e.GetProperty("byzantine_accepted").GetInt32(),
            e.GetProperty("byzantine_kept").GetInt32(),
            Opt("aggregate_norm") ?? double.NaN,
            e.GetProperty("kept_exact").GetBoolean(),
            e.TryGetProperty("k", out var k) ? k.GetInt32() : 0,
            e.TryGetProperty("k_reason", out var why) && why.ValueKind == JsonValueKind.String ? why.GetString() : null,
            ParseTiming(e));
    }

    /// <summary>The timing columns of a row, or null when it has none (a simulation, or a row written before they existed).</summary>
    private static Server.RoundTiming? ParseTiming(JsonElement e)
    {
        var values = new double?[Server.RoundTiming.Columns.Count];
        var any = false;
        for (int i = 0; i < values.Length; i++)
        {
            if (e.TryGetProperty(Server.RoundTiming.Columns[i], out var value) && value.ValueKind == JsonValueKind.Number)
            {
                values[i] = value.GetDouble();
                any = true;
            }
        }

        return any ? Server.RoundTiming.FromValues(values) : null;
    }

    private static DropReason ParseReason(string? name) =>
        Enum.GetValues<DropReason>().FirstOrDefault(r => r.Name() == name, (DropReason)(-1)) is var r && Enum.IsDefined(r)
            ? r
            : throw new FormatException($"unknown drop reason '{name}'");
}
