using Dstar.Core.Specs;

namespace Dstar.Engine.Configuration;

/// <summary>
/// Reads the files that specs name (<c>trace file=PATH</c>) from disk, relative to the current directory. The engine
/// gives it to the registry; Dstar.Core itself reads no files.
/// </summary>
public sealed class DiskSpecFiles : ISpecFiles
{
    /// <summary>The one instance (it holds no state).</summary>
    public static DiskSpecFiles Instance { get; } = new();

    private DiskSpecFiles()
    {
    }

    /// <inheritdoc />
    /// <exception cref="SpecException">the file is missing or unreadable: "cannot read file 'PATH': reason".</exception>
    public IReadOnlyList<string> ReadLines(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SpecException($"cannot read file '{path}': {e.Message}");
        }
    }
}
