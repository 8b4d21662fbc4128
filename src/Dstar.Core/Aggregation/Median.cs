using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Coordinate-wise median: per coordinate j, the middle value of x₁ⱼ…xₙⱼ (the mean of the two middle values when n
/// is even). Yin et al., "Byzantine-robust distributed learning: towards optimal statistical rates", ICML 2018.
/// </summary>
/// <remarks>
/// Requirements: n ≥ 1 (robust while fewer than half the rows are Byzantine, f &lt; n/2; f is not needed to run).
/// Cost: O(n·d) reads and O(n log² n) min/max per 16 coordinates (a pruned selection network,
/// <see cref="CoordinateSelection"/>). Non-finite rows are dropped and reported; when no finite row remains the rule
/// fails with <see cref="AggregationException"/>, as it does for an output of the wrong length.
/// </remarks>
public sealed class Median : IAggregator
{
    /// <inheritdoc />
    public string Name => "median";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient) =>
        RuleRequirements.AtLeast(Name, n, 1);

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        RuleRequirements.Ensure(this, batch, context, output, context.ByzantineCount);
        var kept = RowPointers.All(batch.Count);
        int[] dropped = [];
        if (!CoordinateSelection.Median(batch, kept, output, context.MaxDegreeOfParallelism))
        {
            (kept, dropped) = FiniteRows.Scan(batch);
            if (dropped.Length > 0)
            {
                RuleRequirements.EnsureOnFinite(CheckRequirements(kept.Length, context.ByzantineCount, false), batch.Count, kept.Length);
                CoordinateSelection.Median(batch, kept, output, context.MaxDegreeOfParallelism);
            }
        }

        return new AggregationReport(Name, kept, NonFinite: dropped);
    }
}
