using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Meamed (mean around the median): per coordinate, the mean of the n − f values closest to the coordinate's median;
/// ties in distance keep the smaller value. Xie, Koyejo, Gupta, "Generalized Byzantine-tolerant SGD", arXiv 1802.10116.
/// </summary>
/// <remarks>
/// Requirements: n ≥ f + 1, with f from the spec (<c>meamed f=3</c>) or else <see cref="AggregationContext.ByzantineCount"/>.
/// With f = 0 it is the mean. Cost: O(n·d) reads plus, per 16 coordinates, a network placing the median and the f
/// smallest and f largest values (a full sort when n − f ≤ f); the n − f closest
/// values are a window of the sorted ones, chosen per coordinate without a running sum (no cancellation next to huge
/// values). Non-finite rows are dropped and reported; when too few finite rows remain for n ≥ f + 1 the rule fails with
/// <see cref="AggregationException"/>, as it does for an output of the wrong length.
/// </remarks>
public sealed class Meamed : IAggregator
{
    /// <summary>Creates the rule; <paramref name="byzantineCount"/> (f) overrides the context's when given.</summary>
    public Meamed(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "meamed";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        return RuleRequirements.AtLeast(Name, n, "f+1", f + 1, f);
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
        if (!CoordinateSelection.MeanClosestToMedian(batch, kept, batch.Count - f, output, context.MaxDegreeOfParallelism))
        {
            (kept, dropped) = FiniteRows.Scan(batch);
            if (dropped.Length > 0)
            {
                RuleRequirements.EnsureOnFinite(CheckRequirements(kept.Length, f, false), batch.Count, kept.Length);
                CoordinateSelection.MeanClosestToMedian(batch, kept, kept.Length - f, output, context.MaxDegreeOfParallelism);
            }
        }

        return new AggregationReport(Name, kept, NonFinite: dropped);
    }
}
