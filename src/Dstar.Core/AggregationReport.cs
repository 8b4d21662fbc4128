namespace Dstar.Core;

/// <summary>What a rule did with one batch: which rows it kept, and with what weight or score.</summary>
/// <param name="Rule">The rule's registry name.</param>
/// <param name="Kept">Indices of the rows that contributed to the output, ascending.</param>
/// <param name="Weights">Per-row weight in the output (same length as the batch) where weights mean something, else null.</param>
/// <param name="Scores">Per-row score (Krum score, dSTAR deviation ratio, Zeno score…) where the rule has one, else null.</param>
/// <param name="NonFinite">Rows dropped because they held NaN or ±∞, ascending.</param>
public sealed record AggregationReport(
    string Rule,
    IReadOnlyList<int> Kept,
    IReadOnlyList<double>? Weights = null,
    IReadOnlyList<double>? Scores = null,
    IReadOnlyList<int>? NonFinite = null)
{
    /// <summary>Rows dropped because they held NaN or ±∞ (empty when none).</summary>
    public IReadOnlyList<int> NonFiniteRows => NonFinite ?? Array.Empty<int>();

    /// <summary>A report that every row 0..n−1 was kept with no weights.</summary>
    public static AggregationReport All(string rule, int n) => new(rule, Enumerable.Range(0, n).ToArray());
}
