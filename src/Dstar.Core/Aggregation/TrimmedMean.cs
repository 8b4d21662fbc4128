using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean: per coordinate, drop the f largest and the f smallest values and average the other
/// n − 2f. Yin et al., "Byzantine-robust distributed learning: towards optimal statistical rates", ICML 2018.
/// </summary>
/// <remarks>
/// Requirements: n ≥ 2f + 1, with f from the spec (<c>trimmed-mean f=3</c>) or else <see cref="AggregationContext.ByzantineCount"/>.
/// With f = 0 it is the mean. Cost: O(n·d) reads plus, per 16 coordinates, either (n ≥ 24 and f ≤ 7, with AVX-512)
/// about 12 min/max/add per value to track the f + 1 extremes of each end and sum the values clamped between the kept
/// extremes, or a network placing the f smallest and f largest (the kept values are summed in any order).
/// Non-finite rows are dropped and reported; when too few finite rows remain for n ≥ 2f + 1 the rule fails with
/// <see cref="AggregationException"/>, as it does for an output of the wrong length.
/// </remarks>
public sealed class TrimmedMean : IAggregator
{
    /// <summary>Creates the rule; <paramref name="byzantineCount"/> (f) overrides the context's when given.</summary>
    public TrimmedMean(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "trimmed-mean";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        return RuleRequirements.AtLeast(Name, n, "2f+1", 2 * f + 1, f);
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        int f = RuleRequirements.ByzantineCount(ByzantineCount, context);
        RuleRequirements.Ensure(this, batch, context, output, f);
        var kept = RowPointers.All(batch.Count);
        int[] dropped = [];
        if (!CoordinateSelection.TrimmedMean(batch, kept, f, output, context.MaxDegreeOfParallelism))
        {
            (kept, dropped) = FiniteRows.Scan(batch);
            if (dropped.Length > 0)
            {
                RuleRequirements.EnsureOnFinite(CheckRequirements(kept.Length, f, false), batch.Count, kept.Length);
                CoordinateSelection.TrimmedMean(batch, kept, f, output, context.MaxDegreeOfParallelism);
            }
        }

        return new AggregationReport(Name, kept, NonFinite: dropped);
    }
}
