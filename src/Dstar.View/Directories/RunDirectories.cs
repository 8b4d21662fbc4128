using System.Text.Json;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.View.Board;

namespace Dstar.View.Directories;

/// <summary>
/// Puts run directories on a board: a single run directory (<c>dstar simulate --out</c>), or a folder of them at any
/// depth up to <see cref="MaxDepth"/> (the demo's output, a study's cells), each named by its path under the root.
/// A run directory is one holding metrics.jsonl, summary.json or config.yaml. The reader is tolerant: a missing or
/// damaged file makes that run waiting, incomplete or failed with the reason, never stops the others.
/// <see cref="Refresh"/> re-reads what changed, so a folder that other processes are still writing fills in.
/// </summary>
public sealed class RunDirectories
{
    /// <summary>How deep below the root run directories are looked for.</summary>
    public const int MaxDepth = 4;

    private readonly string _root;
    private readonly ViewBoard _board;
    private readonly Dictionary<string, (ViewRun Run, FileStamp Stamp)> _runs = new(StringComparer.Ordinal);

    /// <summary>Reads <paramref name="root"/> onto <paramref name="board"/>.</summary>
    /// <exception cref="ArgumentException">the directory does not exist, or holds no run directory.</exception>
    public RunDirectories(string root, ViewBoard board)
    {
        _root = Path.GetFullPath(root);
        _board = board;
        if (!Directory.Exists(_root))
        {
            throw new ArgumentException($"'{root}': no such directory");
        }

        Refresh();
        if (_runs.Count == 0)
        {
            throw new ArgumentException(
                $"'{root}' holds no run directory (one with metrics.jsonl, summary.json or config.yaml), in it or up to {MaxDepth} levels below");
        }
    }

    /// <summary>Run directories found so far.</summary>
    public int Count => _runs.Count;

    /// <summary>True when <paramref name="directory"/> holds a run's files.</summary>
    public static bool IsRunDirectory(string directory) =>
        File.Exists(Path.Combine(directory, MetricsFiles.JsonLinesName))
        || File.Exists(Path.Combine(directory, SummaryFile.FileName))
        || File.Exists(Path.Combine(directory, "config.yaml"));

    /// <summary>Looks for new run directories and re-reads those whose files changed.</summary>
    public void Refresh()
    {
        foreach (var directory in Find(_root, 0))
        {
            var stamp = FileStamp.Of(directory);
            if (_runs.TryGetValue(directory, out var known))
            {
                if (known.Stamp == stamp)
                {
                    continue;
                }
            }
            else
            {
                known = (_board.Add(NameOf(directory)), stamp);
            }

            _runs[directory] = (known.Run, stamp);
            Load(known.Run, directory, NameOf(directory));
        }
    }

    /// <summary>Calls <see cref="Refresh"/> every <paramref name="interval"/> until cancelled.</summary>
    public async Task WatchAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Refresh();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string NameOf(string directory)
    {
        var relative = Path.GetRelativePath(_root, directory);
        return relative == "." ? Path.GetFileName(_root) : relative.Replace('\\', '/');
    }

    private static IEnumerable<string> Find(string directory, int depth)
    {
        if (IsRunDirectory(directory))
        {
            yield return directory;
            yield break;
        }

        if (depth >= MaxDepth)
        {
            yield break;
        }

        string[] children;
        try
        {
            children = Directory.GetDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        Array.Sort(children, StringComparer.Ordinal);
        foreach (var child in children)
        {
            foreach (var run in Find(child, depth + 1))
            {
                yield return run;
            }
        }
    }

    private static void Load(ViewRun run, string directory, string name)
    {
        try
        {
            var config = ReadConfig(directory);
            var records = ReadRecords(directory);
            var summary = ReadSummary(directory, name);
            int workers = config?.Workers ?? records.SelectMany(r => r.Accepted.Concat(r.Kept).Concat(r.Filtered)).DefaultIfEmpty(-1).Max() + 1;
            var info = new RunInfo(
                name,
                directory,
                workers,
                config?.Rounds ?? records.Count,
                config is null ? [] : Enumerable.Range(config.Workers - config.Byzantine, config.Byzantine).ToArray(),
                config is null ? "(no readable config.yaml)" : Describe(config));
            var state = summary is not null ? (summary.StoppedAtRound is null ? RunState.Finished : RunState.Stopped)
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

    /// <summary>Sizes and write times of a run's files: when none changed, the run is not re-read.</summary>
    private readonly record struct FileStamp(long MetricsLength, DateTime MetricsTime, DateTime SummaryTime, DateTime ConfigTime)
    {
        public static FileStamp Of(string directory)
        {
            var metrics = new FileInfo(Path.Combine(directory, MetricsFiles.JsonLinesName));
            return new FileStamp(
                metrics.Exists ? metrics.Length : -1,
                metrics.Exists ? metrics.LastWriteTimeUtc : default,
                File.GetLastWriteTimeUtc(Path.Combine(directory, SummaryFile.FileName)),
                File.GetLastWriteTimeUtc(Path.Combine(directory, "config.yaml")));
        }
    }
}
