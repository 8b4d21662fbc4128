using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Krum (Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries: Byzantine Tolerant Gradient
/// Descent", NeurIPS 2017): score(i) = Σ of the squared distances from xᵢ to its n − f − 2 nearest other rows; the
/// output is the row with the lowest score (ties: the lowest row index).
/// </summary>
/// <remarks>
/// <para>Requirements: n ≥ 2f + 3. f is the spec's <c>f=</c> when given, else <see cref="AggregationContext.ByzantineCount"/>.</para>
/// <para>
/// Non-finite rows are dropped and reported in <see cref="AggregationReport.NonFinite"/> before any distance is taken;
/// the requirement is then checked again on the m finite rows (with the same f), and the rule throws
/// <see cref="AggregationException"/> when it no longer holds.
/// </para>
/// <para>Report: Kept = the chosen row, Weights = 1 for it and 0 elsewhere, Scores = the Krum scores (NaN for dropped rows).</para>
/// <para>
/// Cost: one pass over the data for the Gram matrix (O(n²·d/2) multiply-adds, see <see cref="PairwiseDistances"/>),
/// O(n² log n) for the scores, and one row copy. Steady-state calls allocate only the report.
/// </para>
/// </remarks>
public sealed class Krum : IAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private double[] _scores = Array.Empty<double>();
    private double[] _sortScratch = Array.Empty<double>();

    /// <summary>Creates Krum; <paramref name="byzantineCount"/> overrides the context's f when given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">byzantineCount is negative.</exception>
    public Krum(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "krum";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        return RuleRequirements.AtLeast(Name, n, "2f+3", 2 * f + 3, f);
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        RuleRequirements.Output(Name, batch, output);
        int f = RuleRequirements.ByzantineCount(ByzantineCount, context);
        int n = batch.Count;
        RuleRequirements.Ensure(CheckRequirements(n, f, context.ValidationGradient is not null));
        int m = _workspace.Measure(batch, context.MaxDegreeOfParallelism);
        RuleRequirements.EnsureOnFinite(CheckRequirements(m, f, context.ValidationGradient is not null), n, m);

        Scratch.AtLeast(ref _scores, m);
        Scratch.AtLeast(ref _sortScratch, m);
        var scores = _scores.AsSpan(0, m);
        Span<bool> active = m <= 512 ? stackalloc bool[m] : new bool[m];
        active.Fill(true);
        Scores(_workspace.Distances, m, active, m - f - 2, scores, _sortScratch);
        int best = ArgMin(scores, active);
        batch.Row(_workspace.Rows[best]).CopyTo(output);

        var weights = new double[n];
        weights[_workspace.Rows[best]] = 1;
        return new AggregationReport(Name, [_workspace.Rows[best]], weights, _workspace.Spread(scores, n, double.NaN), _workspace.NonFiniteRows(n));
    }

    /// <summary>
    /// Krum scores within the active rows: for each active row, the sum of its <paramref name="neighbours"/> smallest
    /// squared distances to the other active rows (inactive rows get +∞).
    /// </summary>
    internal static void Scores(ReadOnlySpan<double> distances, int m, ReadOnlySpan<bool> active, int neighbours, Span<double> scores, Span<double> scratch)
    {
        for (int i = 0; i < m; i++)
        {
            if (!active[i])
            {
                scores[i] = double.PositiveInfinity;
                continue;
            }

            int count = 0;
            for (int j = 0; j < m; j++)
            {
                if (j != i && active[j])
                {
                    scratch[count++] = distances[i * m + j];
                }
            }

            var others = scratch[..count];
            others.Sort();
            double sum = 0;
            for (int k = 0; k < Math.Min(neighbours, count); k++)
            {
                sum += others[k];
            }

            scores[i] = sum;
        }
    }

    /// <summary>The active position with the lowest score; ties go to the lowest position.</summary>
    internal static int ArgMin(ReadOnlySpan<double> scores, ReadOnlySpan<bool> active)
    {
        int best = -1;
        for (int i = 0; i < scores.Length; i++)
        {
            if (active[i] && (best < 0 || scores[i] < scores[best]))
            {
                best = i;
            }
        }

        return best;
    }
}
