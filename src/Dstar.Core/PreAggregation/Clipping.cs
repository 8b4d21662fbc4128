using Dstar.Core.Kernels;

namespace Dstar.Core.PreAggregation;

/// <summary>
/// Static norm clipping: each row xᵢ becomes xᵢ·min(1, c/‖xᵢ‖₂), so no row is longer than c.
/// </summary>
/// <remarks>
/// Requirements: c &gt; 0. Cost: two passes, O(n·d) (norms, then scaling the long rows). Changes the batch in place.
/// Norms are summed in double, and rows of huge values get their exact norm, so they are scaled down rather than
/// zeroed by an overflow. Rows holding NaN/±∞ are left unchanged for the rule after it to drop.
/// </remarks>
public sealed class Clipping : IPreAggregator
{
    /// <summary>Creates the pre-aggregator with threshold <paramref name="threshold"/> (c).</summary>
    /// <exception cref="ArgumentOutOfRangeException">threshold not positive and finite.</exception>
    public Clipping(double threshold = 1)
    {
        if (!(threshold > 0) || !double.IsFinite(threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), $"clip: c must be a positive number, got {threshold}");
        }

        Threshold = threshold;
    }

    /// <summary>c, the largest norm a row keeps.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public string Name => "clip";

    /// <inheritdoc />
    public GradientBatch Apply(GradientBatch batch, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        int n = batch.Count;
        if (n == 0)
        {
            return batch;
        }

        Span<double> norms = n <= RowPointers.StackLimit ? stackalloc double[n] : new double[n];
        RowNorms.Compute(batch, norms, context.MaxDegreeOfParallelism);
        for (int i = 0; i < n; i++)
        {
            if (double.IsFinite(norms[i]) && norms[i] > Threshold)
            {
                RowNorms.Scale(batch.Row(i), Threshold / norms[i]);
            }
        }

        return batch;
    }
}
