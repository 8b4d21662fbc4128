using Dstar.Engine.Configuration;

namespace Dstar.Studies.Definition;

/// <summary>The study file (or a cell it expands to) is invalid; <see cref="Errors"/> lists every problem, one per line.</summary>
public sealed class StudyException(IReadOnlyList<ConfigError> errors)
    : Exception($"invalid study ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):" + Environment.NewLine
        + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    /// <summary>Every problem: the key (<c>grid.attack</c>, <c>seeds[1]</c>, a cell's config key), the value, what is wrong.</summary>
    public IReadOnlyList<ConfigError> Errors { get; } = errors;

    /// <summary>Whether the study file itself could not be read (missing, a directory, no permission): an I/O error, not a bad study.</summary>
    public bool Unreadable { get; init; }
}
