namespace Dstar.Core.Specs;

/// <summary>
/// How a spec that names a file (<c>trace file=PATH</c>) gets its lines. Dstar.Core reads no files (see
/// ARCHITECTURE.md): the host passes a reader to <see cref="Catalog{T}.Create(string, ISpecFiles?)"/>, such as
/// Dstar.Engine's <c>DiskSpecFiles</c>, or an in-memory one in tests.
/// </summary>
public interface ISpecFiles
{
    /// <summary>The lines of the file at <paramref name="path"/>.</summary>
    /// <exception cref="SpecException">the file cannot be read; the message names the path and the reason.</exception>
    IReadOnlyList<string> ReadLines(string path);
}
