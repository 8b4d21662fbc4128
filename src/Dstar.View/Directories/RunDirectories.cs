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
    private readonly Dictionary<string, (ViewRun Run, RunFileStamp Stamp)> _runs = new(StringComparer.Ordinal);

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
            var stamp = RunFileStamp.Of(directory);
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
            RunDirectoryReader.Load(known.Run, directory, NameOf(directory));
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
}
