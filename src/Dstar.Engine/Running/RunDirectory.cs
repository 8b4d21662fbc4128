using System.Globalization;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Recording;

namespace Dstar.Engine.Running;

/// <summary>
/// Keeps run directories from being clobbered: a new run refuses a directory that already holds a run, and
/// <see cref="RunDirectoryMode.Overwrite"/> moves the old directory aside (never deletes it).
/// </summary>
public static class RunDirectory
{
    /// <summary>The files a run writes; a directory holding any of them holds a run.</summary>
    public static IReadOnlyList<string> RunFileNames { get; } =
    [
        RunStateFile.FileName, "config.yaml", MetricsFiles.JsonLinesName, MetricsFiles.CsvName, SummaryFile.FileName,
        CheckpointFile.FileName, CheckpointFile.FileName + ".previous", "metrics.prom",
    ];

    /// <summary>Whether <paramref name="directory"/> holds any of <see cref="RunFileNames"/> or <paramref name="otherNames"/>.</summary>
    public static bool HoldsRun(string directory, IEnumerable<string>? otherNames = null) =>
        RunFileNames.Concat(otherNames ?? []).Any(name => Path.Exists(Path.Combine(directory, name)));

    /// <summary>
    /// Makes <paramref name="directory"/> ready for a run in <paramref name="mode"/>: <see cref="RunDirectoryMode.New"/>
    /// refuses a directory that holds a run (or one of <paramref name="otherNames"/>, files the host itself writes);
    /// <see cref="RunDirectoryMode.Overwrite"/> moves a non-empty directory aside and returns where to;
    /// resume and replace change nothing. Returns null when nothing was moved.
    /// </summary>
    /// <exception cref="IOException">a new run on a directory that holds one (the message names its state and the options), or the move failed.</exception>
    public static string? Claim(string directory, RunDirectoryMode mode, IEnumerable<string>? otherNames = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            if (File.Exists(directory))
            {
                throw new IOException($"{directory} is a file, not a run directory");
            }

            return null;
        }

        switch (mode)
        {
            case RunDirectoryMode.New when HoldsRun(directory, otherNames):
                var state = RunStateFile.TryRead(directory)?.State ?? "unknown state";
                throw new IOException(
                    $"{directory} already holds a run ({state}); pass --resume to continue it, or --overwrite to move it aside to {directory.TrimEnd('/', '\\')}.old-TIMESTAMP");
            case RunDirectoryMode.Overwrite when Directory.EnumerateFileSystemEntries(directory).Any():
                return MoveAside(directory);
            default:
                return null;
        }
    }

    /// <summary>The prefix of the folder <see cref="SetAsideInside"/> moves a run's files into.</summary>
    public const string SetAsidePrefix = "previous-run-";

    /// <summary>
    /// Moves every entry of <paramref name="directory"/> into a new sub-folder <c>previous-run-yyyyMMdd-HHmmss</c> (never
    /// deleted) and returns its path; earlier such folders, <c>lost+found</c> and <paramref name="keep"/> stay. For a
    /// directory that is itself a mount point (a Kubernetes volume), where <see cref="MoveAside"/>'s rename cannot work.
    /// </summary>
    public static string SetAsideInside(string directory, params string[] keep)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var target = Path.Combine(root, SetAsidePrefix + stamp);
        for (int i = 2; Path.Exists(target); i++)
        {
            target = Path.Combine(root, $"{SetAsidePrefix}{stamp}-{i}");
        }

        var kept = keep.Select(k => Path.TrimEndingDirectorySeparator(Path.GetFullPath(k))).ToHashSet(StringComparer.Ordinal);
        var entries = Directory.EnumerateFileSystemEntries(root)
            .Where(e => !Path.GetFileName(e).StartsWith(SetAsidePrefix, StringComparison.Ordinal) && Path.GetFileName(e) != "lost+found" && !kept.Contains(e))
            .ToList();
        Directory.CreateDirectory(target);
        foreach (var entry in entries)
        {
            var destination = Path.Combine(target, Path.GetFileName(entry));
            if (Directory.Exists(entry))
            {
                Directory.Move(entry, destination);
            }
            else
            {
                File.Move(entry, destination);
            }
        }

        return target;
    }

    /// <summary>Renames <paramref name="directory"/> to <c>DIRECTORY.old-yyyyMMdd-HHmmss</c> (with a suffix if that exists) and returns the new path.</summary>
    public static string MoveAside(string directory)
    {
        var trimmed = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var target = $"{trimmed}.old-{stamp}";
        for (int i = 2; Path.Exists(target); i++)
        {
            target = $"{trimmed}.old-{stamp}-{i}";
        }

        Directory.Move(trimmed, target);
        return target;
    }
}
