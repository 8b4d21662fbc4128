using System.Text.Json;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.View.Board;

namespace Dstar.View.Directories;

/// <summary>
/// Reads one run directory (config.yaml, metrics.jsonl, summary.json) onto a <see cref="ViewRun"/>, tolerantly: a
/// last metrics line without its newline (a run still writing) is left for the next read, and a damaged file makes
/// that run failed with the file and line, never stops the reader.
/// </summary>
internal static class RunDirectoryReader
{
    /// <summary>
    /// Reads the run in <paramref name="directory"/> onto <paramref name="run"/>: waiting (no rows), incomplete (rows,
    /// no summary), finished or stopped; failed with the file and line when a file is damaged. With
    /// <paramref name="running"/> (another process is known to be writing it now), a run without summary is running,
    /// and a summary.json that does not parse yet is taken as still being written rather than damaged.
    /// </summary>
    public static void Load(ViewRun run, string directory, string name, bool running = false)
    {
        try
        {
            var config = ReadConfig(directory);
            var records = ReadRecords(directory);
            RunSummary? summary;
            try
            {
                summary = ReadSummary(directory, name);
            }
            catch (JsonException) when (running)
            {
                summary = null;
            }

            int workers = config?.Workers ?? records.SelectMany(r => r.Accepted.Concat(r.Kept).Concat(r.Filtered)).DefaultIfEmpty(-1).Max() + 1;
            var info = new RunInfo(
                name,
                directory,
                workers,
                config?.Rounds ?? records.Count,
                config is null ? [] : Enumerable.Range(config.Workers - config.Byzantine, config.Byzantine).ToArray(),
                config is null ? "(no readable config.yaml)" : Describe(config));
            var state = summary is not null ? (summary.StoppedAtRound is null ? RunState.Finished : RunState.Stopped)
                : running ? RunState.Running
                : records.Count > 0 ? RunState.Incomplete
                : RunState.Waiting;
            run.Load(info, records, summary, state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            run.Fail(e.Message.ReplaceLineEndings(" ").Trim());
        }
    }

    private static string Describe(ExperimentConfig c) =>
        $"{c.Data.Name}, {c.Model}; N = {c.Workers}, k = {c.K}, f = {c.Byzantine} ({c.Attack ?? "no attack"}); rule {c.Aggregator}; delays {c.Delay}; seed {c.Seed}";

    private static ExperimentConfig? ReadConfig(string directory)
    {
        var path = Path.Combine(directory, "config.yaml");
        if (!File.Exists(path))
        {
            return null;
        }

        var (config, errors) = ConfigLoader.Bind(File.ReadAllText(path));
        return errors.Count == 0 && config.Workers > 0 && config.Byzantine >= 0 && config.Byzantine <= config.Workers ? config : null;
    }

    /// <summary>The complete rows of metrics.jsonl: a last line without its newline (still being written) is left for later.</summary>
    private static IReadOnlyList<RoundRecord> ReadRecords(string directory)
    {
        var path = Path.Combine(directory, MetricsFiles.JsonLinesName);
        if (!File.Exists(path))
        {
            return [];
        }

        long complete = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var buffer = new byte[64 * 1024];
            bool blank = true;
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                foreach (var b in buffer.AsSpan(0, read))
                {
                    if (b == (byte)'\n')
                    {
                        complete += blank ? 0 : 1;
                        blank = true;
                    }
                    else if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                    {
                        blank = false;
                    }
                }
            }
        }

        return MetricsFiles.Read(directory, complete);
    }

    private static RunSummary? ReadSummary(string directory, string name)
    {
        var path = Path.Combine(directory, SummaryFile.FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var e = document.RootElement;
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: not a JSON object");
        }

        double? Real(string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        long Integer(string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i) ? i : 0;
        var drops = new Dictionary<string, long>(StringComparer.Ordinal);
        if (e.TryGetProperty("drops", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in d.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out _)))
            {
                drops[p.Name] = p.Value.GetInt64();
            }
        }

        return new RunSummary(
            e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : name,
            Real("final_accuracy"),
            Real("best_accuracy"),
            Real("final_test_loss"),
            Integer("rounds"),
            Real("virtual_seconds") ?? 0,
            Real("wall_seconds") ?? 0,
            Real("mean_round_virtual_seconds") ?? 0,
            Real("filter_precision"),
            Real("filter_recall"),
            Real("byzantine_kept_fraction"),
            Integer("byzantine_kept"),
            Integer("byzantine_accepted"),
            drops,
            e.TryGetProperty("stopped_at_round", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null,
            e.TryGetProperty("stop_reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null);
    }
}

/// <summary>Sizes and write times of a run's files: when none changed, the run is not re-read.</summary>
internal readonly record struct RunFileStamp(long MetricsLength, DateTime MetricsTime, DateTime SummaryTime, DateTime ConfigTime)
{
    public static RunFileStamp Of(string directory)
    {
        var metrics = new FileInfo(Path.Combine(directory, MetricsFiles.JsonLinesName));
        return new RunFileStamp(
            metrics.Exists ? metrics.Length : -1,
            metrics.Exists ? metrics.LastWriteTimeUtc : default,
            File.GetLastWriteTimeUtc(Path.Combine(directory, SummaryFile.FileName)),
            File.GetLastWriteTimeUtc(Path.Combine(directory, "config.yaml")));
    }
}
