using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Bulyan (El Mhamdi, Guerraoui, Rouault, "The Hidden Vulnerability of Distributed Learning in Byzantium", ICML 2018,
/// Algorithm 2 with Krum as the selection rule). Phase 1 picks θ = n − 2f rows by repeated Krum: each time the row
/// with the lowest Krum score among the rows not yet picked (its score summing its max(0, s − f − 2) nearest squared
/// distances within that set of s rows) moves to the selection. Phase 2 sets, per coordinate, the mean of the
/// β = θ − 2f selected values closest to their median (ties as in
/// <see cref="CoordinateSelection.MeanClosestToMedian"/>).
/// </summary>
/// <remarks>
/// <para>Requirements: n ≥ 4f + 3. f is the spec's <c>f=</c> when given, else the context's.</para>
/// <para>
/// Non-finite rows are dropped and reported before any distance is taken; the requirement is then checked again on
/// the finite rows and the rule throws <see cref="AggregationException"/> when it fails.
/// </para>
/// <para>
/// Report: Kept = the θ rows picked in phase 1, Weights = null (phase 2 weighs coordinates, not rows),
/// Scores = the Krum scores of the first round over all finite rows (NaN for dropped rows).
/// </para>
/// <para>
/// Cost: the one Gram pass (see <see cref="PairwiseDistances"/>) serves every Krum round (no distance is computed
/// twice), O(θ·n² log n) for the rounds, then the coordinate-wise phase over θ rows, O(θ·d).
/// </para>
/// </remarks>
public sealed class Bulyan : IAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private double[] _scores = Array.Empty<double>();
    private double[] _firstScores = Array.Empty<double>();
    private double[] _sortScratch = Array.Empty<double>();
    private int[] _picked = Array.Empty<int>();
    private int[] _pickedRows = Array.Empty<int>();

    /// <summary>Creates Bulyan; <paramref name="byzantineCount"/> overrides the context's f when given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">byzantineCount is negative.</exception>
    public Bulyan(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "bulyan";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        return RuleRequirements.AtLeast(Name, n, "4f+3", 4 * f + 3, f);
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

        int theta = m - 2 * f;
        int beta = theta - 2 * f;
        Scratch.AtLeast(ref _scores, m);
        Scratch.AtLeast(ref _firstScores, m);
        Scratch.AtLeast(ref _sortScratch, m);
        Scratch.AtLeast(ref _picked, m);
        Scratch.AtLeast(ref _pickedRows, m);
        var scores = _scores.AsSpan(0, m);
        Span<bool> remaining = m <= 512 ? stackalloc bool[m] : new bool[m];
        remaining.Fill(true);
        for (int round = 0; round < theta; round++)
        {
            int size = m - round;
            Krum.Scores(_workspace.Distances, m, remaining, Math.Max(0, size - f - 2), scores, _sortScratch);
            if (round == 0)
            {
                scores.CopyTo(_firstScores);
            }

            int best = Krum.ArgMin(scores, remaining);
            remaining[best] = false;
            _picked[round] = best;
            _pickedRows[round] = _workspace.Rows[best];
        }

        var pickedRows = _pickedRows.AsSpan(0, theta);
        CoordinateSelection.MeanClosestToMedian(batch, pickedRows, beta, output, context.MaxDegreeOfParallelism);
        return new AggregationReport(
            Name,
            _workspace.BatchRows(_picked.AsSpan(0, theta)),
            Scores: _workspace.Spread(_firstScores.AsSpan(0, m), n, double.NaN),
            NonFinite: _workspace.NonFiniteRows(n));
    }
}
