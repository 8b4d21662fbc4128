using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Multi-Krum (Blanchard et al., NeurIPS 2017, §4 "Multi-Krum"): the mean of the m rows with the lowest Krum scores,
/// score(i) = Σ of the squared distances from xᵢ to its n − f − 2 nearest other rows. Ties in score go to the lower
/// row index. m defaults to n − f; with m = n it is the plain mean and with m = 1 it is Krum.
/// </summary>
/// <remarks>
/// <para>Requirements: n ≥ 2f + 3 and 1 ≤ m ≤ n. f is the spec's <c>f=</c> when given, else the context's.</para>
/// <para>
/// Non-finite rows are dropped and reported before any distance is taken; the requirements (and the default m = n − f)
/// then apply to the finite rows, and the rule throws <see cref="AggregationException"/> when they fail.
/// </para>
/// <para>Report: Kept = the m chosen rows, Weights = 1/m for them, Scores = the Krum scores (NaN for dropped rows).</para>
/// <para>Cost: the Gram pass (see <see cref="PairwiseDistances"/>), O(n² log n) for the scores, and one read of the m chosen rows.</para>
/// </remarks>
public sealed class MultiKrum : IAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private double[] _scores = Array.Empty<double>();
    private double[] _sortScratch = Array.Empty<double>();
    private int[] _order = Array.Empty<int>();
    private int[] _chosenRows = Array.Empty<int>();

    /// <summary>Creates Multi-Krum; f overrides the context's when given; m defaults to n − f.</summary>
    /// <exception cref="ArgumentOutOfRangeException">f is negative or m is not positive.</exception>
    public MultiKrum(int? byzantineCount = null, int? selected = null)
    {
        if (selected <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(selected), $"multi-krum: m must be ≥ 1, got {selected}");
        }

        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
        Selected = selected;
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <summary>m, how many rows are averaged; null means n − f.</summary>
    public int? Selected { get; }

    /// <inheritdoc />
    public string Name => "multi-krum";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        return RuleRequirements.AtLeast(Name, n, "2f+3", 2 * f + 3, f)
            ?? (Selected is int m ? RuleRequirements.AtLeast(Name, n, "m", m, "m", m) : null);
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        RuleRequirements.Output(Name, batch, output);
        int f = RuleRequirements.ByzantineCount(ByzantineCount, context);
        int n = batch.Count;
        bool hasValidation = context.ValidationGradient is not null;
        RuleRequirements.Ensure(CheckRequirements(n, f, hasValidation));
        int m = _workspace.Measure(batch, context.MaxDegreeOfParallelism);
        RuleRequirements.EnsureOnFinite(CheckRequirements(m, f, hasValidation), n, m);
        int selected = Selected ?? m - f;

        Scratch.AtLeast(ref _scores, m);
        Scratch.AtLeast(ref _sortScratch, m);
        Scratch.AtLeast(ref _order, m);
        Scratch.AtLeast(ref _chosenRows, m);
        var scores = _scores.AsSpan(0, m);
        Span<bool> active = m <= 512 ? stackalloc bool[m] : new bool[m];
        active.Fill(true);
        Krum.Scores(_workspace.Distances, m, active, m - f - 2, scores, _sortScratch);

        var order = _order.AsSpan(0, m);
        LowestScores(scores, order);
        var chosen = order[..selected];
        var chosenRows = _chosenRows.AsSpan(0, selected);
        for (int k = 0; k < selected; k++)
        {
            chosenRows[k] = _workspace.Rows[chosen[k]];
        }

        RowMeans.Mean(batch, chosenRows, default, output, context.MaxDegreeOfParallelism);
        var kept = _workspace.BatchRows(chosen);
        var weights = new double[n];
        foreach (var row in kept)
        {
            weights[row] = 1.0 / selected;
        }

        return new AggregationReport(Name, kept, weights, _workspace.Spread(scores, n, double.NaN), _workspace.NonFiniteRows(n));
    }

    /// <summary>Positions 0..m−1 ordered by score, ties by position (insertion sort: m is small and this allocates nothing).</summary>
    internal static void LowestScores(ReadOnlySpan<double> scores, Span<int> order)
    {
        for (int i = 0; i < order.Length; i++)
        {
            int k = i;
            while (k > 0 && scores[order[k - 1]] > scores[i])
            {
                order[k] = order[k - 1];
                k--;
            }

            order[k] = i;
        }
    }
}
