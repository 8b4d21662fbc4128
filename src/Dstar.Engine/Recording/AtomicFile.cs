namespace Dstar.Engine.Recording;

/// <summary>
/// Writes a small file whole or not at all: the text goes to <c>PATH.tmp</c>, which then replaces <c>PATH</c> by a
/// rename. A run killed mid-write, or a write that fails (a full disk), leaves the previous file as it was and a
/// reader never sees half a file (summary.json, state.json and plan.json are read while runs go on and after crashes).
/// </summary>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="text"/> (UTF-8, no byte-order mark).</summary>
    /// <exception cref="IOException">the file cannot be written; <paramref name="path"/> is left as it was.</exception>
    public static void WriteAllText(string path, string text) => Replace(path, tmp => File.WriteAllText(tmp, text));

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    /// <exception cref="IOException">the file cannot be written; <paramref name="path"/> is left as it was.</exception>
    public static void WriteAllBytes(string path, byte[] bytes) => Replace(path, tmp => File.WriteAllBytes(tmp, bytes));

    private static void Replace(string path, Action<string> write)
    {
        var tmp = path + ".tmp";
        try
        {
            write(tmp);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }

        File.Move(tmp, path, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind; the next write replaces it.
        }
    }
}
