using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// The arithmetic mean (1/n) Σᵢ xᵢ: plain averaging, not robust (one row moves it arbitrarily).
/// Requirements: n ≥ 1. Cost: O(n·d), one pass over column blocks (see <see cref="RowMeans"/>).
/// Non-finite rows are dropped and reported; when every row is non-finite the rule fails with
/// <see cref="AggregationException"/>. An output of the wrong length also fails.
/// </summary>
public sealed class Mean : IAggregator
{
    /// <inheritdoc />
    public string Name => "mean";

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
        if (!RowMeans.Mean(batch, kept, default, output, context.MaxDegreeOfParallelism))
        {
            (kept, dropped) = FiniteRows.Scan(batch);
            if (kept.Length == 0)
            {
                throw new AggregationException($"mean: all {batch.Count} rows hold non-finite values");
            }

            if (dropped.Length > 0)
            {
                RowMeans.Mean(batch, kept, default, output, context.MaxDegreeOfParallelism);
            }
        }

        var weights = new double[batch.Count];
        foreach (var i in kept)
        {
            weights[i] = 1.0 / kept.Length;
        }

        return new AggregationReport(Name, kept, weights, NonFinite: dropped);
    }
}
