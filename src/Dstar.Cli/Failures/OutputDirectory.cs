using Dstar.Engine.Running;

namespace Dstar.Cli.Failures;

/// <summary>
/// Creates the directory an option names, so that a directory that cannot be made is refused naming the option and the
/// path in words, instead of .NET's message about some file ("Could not find file '/proc/x'").
/// </summary>
public static class OutputDirectory
{
    /// <summary>Creates <paramref name="path"/> (and its parents) unless it exists.</summary>
    /// <param name="path">The directory.</param>
    /// <param name="option">The option that named it, e.g. <c>--out</c>.</param>
    /// <exception cref="CommandFailure">it cannot be created (a data error: the message names the option, the path and why).</exception>
    public static void Create(string path, string option)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailure($"{option} '{path}': cannot create the directory: {Reason(path, e)}", FailureKind.Data);
        }
    }

    /// <summary>
    /// Keeps what an earlier command saved in <paramref name="path"/> (<c>--out</c>): when <paramref name="held"/>, the
    /// saved files found there, is not empty, moves the directory aside to DIR.old-TIMESTAMP (never deleted) if
    /// <paramref name="mayMove"/> (the command's <c>--overwrite</c>, or a default directory the command owns) and
    /// returns where to, else refuses it. Returns null when nothing was moved.
    /// </summary>
    /// <param name="path">The output directory.</param>
    /// <param name="held">The saved files or run directories found in it.</param>
    /// <param name="mayMove">Whether an earlier output may be moved aside.</param>
    /// <param name="what">What the saved files are, for the refusal: <c>an earlier demo</c>.</param>
    /// <param name="purpose">What the directory is for, when it is a file: <c>the demo's runs</c>.</param>
    /// <param name="also">Appended to the refusal (another way out), or empty.</param>
    /// <exception cref="CommandFailure">the path is a file, or it holds saved files and may not be moved (data errors).</exception>
    public static string? KeepSaved(string path, IReadOnlyList<string> held, bool mayMove, string what, string purpose, string also = "")
    {
        if (File.Exists(path))
        {
            throw new CommandFailure($"--out '{path}' is a file: give a directory for {purpose}", FailureKind.Data);
        }

        if (held.Count == 0)
        {
            return null;
        }

        if (!mayMove)
        {
            throw new CommandFailure(
                $"--out '{path}' already holds {what} ({string.Join(", ", held)}); pass --overwrite to move it aside to {path.TrimEnd('/', '\\')}.old-TIMESTAMP, or give another --out{also}",
                FailureKind.Data);
        }

        return RunDirectory.Claim(path, RunDirectoryMode.Overwrite);
    }

    // Why, in words: the first ancestor that is a file, or what the file system said.
    private static string Reason(string path, Exception e)
    {
        if (e is UnauthorizedAccessException)
        {
            return "permission denied";
        }

        for (var at = Path.GetFullPath(path); !string.IsNullOrEmpty(at); at = Path.GetDirectoryName(at))
        {
            if (File.Exists(at))
            {
                return $"{at} is a file, not a directory";
            }

            if (Directory.Exists(at))
            {
                break;
            }
        }

        return e is FileNotFoundException or DirectoryNotFoundException
            ? "the file system does not allow a directory there"
            : CommandRunner.OneLine(e.Message);
    }
}
