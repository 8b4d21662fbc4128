using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Meamed (mean around the median): per coordinate, the mean of the n − f values closest to the coordinate's median;
/// ties in distance keep the smaller value. Xie, Koyejo, Gupta, "Generalized Byzantine-tolerant SGD", arXiv 1802.10116.
/// </summary>
/// <remarks>
/// Requirements: n &gt; f, with f from the spec (<c>meamed f=3</c>) or else <see cref="AggregationContext.ByzantineCount"/>.
/// With f = 0 it is the mean. Cost: O(n·d) reads plus, per 16 coordinates, a network placing the median and the f
/// smallest and f largest values (a full sort when n − f ≤ f); the n − f closest
/// values are a window of the sorted ones, chosen per coordinate without a running sum (no cancellation next to huge
/// values). Non-finite rows are dropped and reported; when too few finite rows remain for n &gt; f the rule fails with
/// <see cref="AggregationException"/>, as it does for an output of the wrong length.
/// </remarks>
public sealed class Meamed : IAggregator
{
    private readonly int? _byzantineCount;

    /// <summary>Creates the rule; <paramref name="byzantineCount"/> (f) overrides the context's when given.</summary>
    public Meamed(int? byzantineCount = null)
    {
        if (byzantineCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(byzantineCount), $"meamed: f must be ≥ 0, got {byzantineCount}");
        }

        _byzantineCount = byzantineCount;
    }

    /// <inheritdoc />
    public string Name => "meamed";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = _byzantineCount ?? f;
        return n > f ? null : $"meamed needs n > f = {f}, got n = {n}";
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        int f = _byzantineCount ?? context.ByzantineCount;
        RuleChecks.Ensure(this, batch, context, output, f);
        var kept = RowPointers.All(batch.Count);
        int[] dropped = [];
        if (!CoordinateSelection.MeanClosestToMedian(batch, kept, batch.Count - f, output, context.MaxDegreeOfParallelism))
        {
            (kept, dropped) = FiniteRows.Scan(batch);
            if (dropped.Length > 0)
            {
                RuleChecks.EnsureAfterDropping(this, kept.Length, dropped.Length, f, false);
                CoordinateSelection.MeanClosestToMedian(batch, kept, kept.Length - f, output, context.MaxDegreeOfParallelism);
            }
        }

        return new AggregationReport(Name, kept, NonFinite: dropped);
    }
}
