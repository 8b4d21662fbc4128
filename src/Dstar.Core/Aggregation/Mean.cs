using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// The arithmetic mean (1/n) Σᵢ xᵢ: plain averaging, not robust (one row moves it arbitrarily).
/// Requirements: n ≥ 1. Cost: O(n·d), one pass.
/// Non-finite rows are dropped and reported; when every row is non-finite the rule fails.
/// </summary>
public sealed class Mean : IAggregator
{
    /// <inheritdoc />
    public string Name => "mean";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient) =>
        n >= 1 ? null : $"mean needs n ≥ 1, got n = {n}";

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        if (CheckRequirements(batch.Count, context.ByzantineCount, context.ValidationGradient is not null) is { } why)
        {
            throw new AggregationException(why);
        }

        if (output.Length != batch.Dimension)
        {
            throw new AggregationException($"mean: output has {output.Length} values, expected d = {batch.Dimension}");
        }

        output.Clear();
        var kept = new List<int>(batch.Count);
        var dropped = new List<int>();
        for (int i = 0; i < batch.Count; i++)
        {
            var row = batch.Row(i);
            if (NonFinite.AllFinite(row))
            {
                TensorPrimitives.Add(output, row, output);
                kept.Add(i);
            }
            else
            {
                dropped.Add(i);
            }
        }

        if (kept.Count == 0)
        {
            throw new AggregationException($"mean: all {batch.Count} rows hold non-finite values");
        }

        TensorPrimitives.Multiply(output, 1f / kept.Count, output);
        var weights = new double[batch.Count];
        foreach (var i in kept)
        {
            weights[i] = 1.0 / kept.Count;
        }

        return new AggregationReport(Name, kept, weights, NonFinite: dropped);
    }
}
