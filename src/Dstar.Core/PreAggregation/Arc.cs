using Dstar.Core.Kernels;

namespace Dstar.Core.PreAggregation;

/// <summary>
/// Adaptive Robust Clipping (Allouah, Guerraoui, Gupta, Pinot, Stephan, "Boosting robustness by clipping gradients in
/// distributed learning", 2024): with k = ⌊2(f/n)(n − f)⌋, the k rows of largest norm are scaled down to the norm of
/// the (k+1)-th largest, and the others are left alone.
/// </summary>
/// <remarks>
/// Requirements: n ≥ f + 1, with f from the spec (<c>arc f=3</c>) or else <see cref="AggregationContext.ByzantineCount"/>;
/// k = 0 (f = 0) changes nothing. Cost: two passes, O(n·d), plus sorting n norms. Changes the batch in place.
/// Rows holding NaN/±∞ count as the largest (they are among the k clipped first) but stay non-finite for the rule
/// after it to drop. Ties in norm are broken by row index.
/// </remarks>
public sealed class Arc : IPreAggregator
{
    /// <summary>Creates the pre-aggregator; <paramref name="byzantineCount"/> (f) overrides the context's when given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">byzantineCount negative.</exception>
    public Arc(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "arc";

    /// <summary>k = ⌊2(f/n)(n − f)⌋, the number of rows ARC clips.</summary>
    public static int ClippedCount(int n, int f) => n == 0 ? 0 : (int)(2L * f * (n - f) / n);

    /// <inheritdoc />
    public GradientBatch Apply(GradientBatch batch, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        int n = batch.Count, f = RuleRequirements.ByzantineCount(ByzantineCount, context);
        RuleRequirements.Ensure(RuleRequirements.AtLeast(Name, n, "f+1", f + 1, f));

        int k = ClippedCount(n, f);
        if (k == 0)
        {
            return batch;
        }

        Span<double> norms = n <= RowPointers.StackLimit ? stackalloc double[n] : new double[n];
        Span<int> order = n <= RowPointers.StackLimit ? stackalloc int[n] : new int[n];
        RowNorms.Compute(batch, norms, context.MaxDegreeOfParallelism);
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            if (!double.IsFinite(norms[i]))
            {
                norms[i] = double.PositiveInfinity;
            }
        }

        // Descending norm, then ascending index: order[0..k) are clipped to the norm of order[k].
        // Insertion sort: n is a worker count, and a stable sort on a span needs no delegate allocation.
        for (int i = 1; i < n; i++)
        {
            int row = order[i], j = i - 1;
            while (j >= 0 && norms[order[j]] < norms[row])
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = row;
        }

        double limit = norms[order[k]];
        for (int r = 0; r < k; r++)
        {
            int i = order[r];
            if (double.IsFinite(norms[i]) && norms[i] > limit)
            {
                RowNorms.Scale(batch.Row(i), limit / norms[i]);
            }
        }

        return batch;
    }
}
