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
