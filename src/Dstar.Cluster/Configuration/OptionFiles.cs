namespace Dstar.Cluster.Configuration;

/// <summary>
/// One wording for a path option that names no usable file or directory: missing, or the other kind. A directory given
/// where a file is expected (or the reverse) was reported as "does not exist", which sends the user looking for a
/// file that is right there.
/// </summary>
internal static class OptionFiles
{
    /// <summary>Refuses <paramref name="path"/> unless it is an existing file; <paramref name="what"/> names it in the message (e.g. <c>--tls-cert 'x.pem'</c>).</summary>
    /// <exception cref="FileNotFoundException">nothing is at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">a directory is at <paramref name="path"/>.</exception>
    public static void RequireFile(string what, string path)
    {
        if (Directory.Exists(path))
        {
            throw new IOException($"{what} is a directory, not a file.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{what} does not exist.", path);
        }
    }
}
