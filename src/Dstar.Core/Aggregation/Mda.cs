using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Minimum-diameter averaging, MDA (El Mhamdi, Guerraoui, Rouault, "Distributed Momentum for Byzantine-resilient
/// Stochastic Gradient Descent", ICLR 2021; Rousseeuw's minimum volume idea): among all subsets S of n − f rows, take
/// the one with the smallest diameter max_{i,j∈S} ‖xᵢ − xⱼ‖ and output its mean. Exact: every one of the C(n, f)
/// subsets is examined. Ties go to the subset met first when the removed rows are enumerated in lexicographic order.
/// </summary>
/// <remarks>
/// <para>
/// Requirements: n ≥ 2f + 1 (a majority is honest) and C(n, f) ≤ <see cref="MaxSubsets"/>; beyond that the rule
/// refuses rather than fall back to an approximation. f is the spec's <c>f=</c> when given, else the context's.
/// </para>
/// <para>
/// Non-finite rows are dropped and reported before any distance is taken; the requirements (with the same f, subsets
/// of m − f of the m finite rows) are then checked again and the rule throws <see cref="AggregationException"/> when
/// they fail.
/// </para>
/// <para>Report: Kept = the chosen subset, Weights = 1/(n − f) for it, Scores = null.</para>
/// <para>
/// Cost: the Gram pass (see <see cref="PairwiseDistances"/>), then per subset a scan of the pairs in decreasing
/// distance that stops at the first pair inside the subset (at most f·n + 1 pairs), so O(C(n, f)·f·n) plus
/// O(n² log n); then one read of the n − f chosen rows.
/// </para>
/// </remarks>
public sealed class Mda : IAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private int[] _pairs = Array.Empty<int>();
    private double[] _pairDistances = Array.Empty<double>();
    private int[] _order = Array.Empty<int>();
    private double[] _keys = Array.Empty<double>();

    /// <summary>Creates MDA; f overrides the context's when given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">f is negative or maxSubsets is not positive.</exception>
    public Mda(int? byzantineCount = null, long maxSubsets = 1_000_000)
    {
        if (maxSubsets < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSubsets), $"mda: max-subsets must be ≥ 1, got {maxSubsets}");
        }

        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
        MaxSubsets = maxSubsets;
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <summary>The largest number of subsets C(n, f) the rule agrees to enumerate.</summary>
    public long MaxSubsets { get; }

    /// <inheritdoc />
    public string Name => "mda";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        f = ByzantineCount ?? f;
        if (RuleRequirements.AtLeast(Name, n, "2f+1", 2 * f + 1, f) is { } why)
        {
            return why;
        }

        long subsets = Binomial(n, f, MaxSubsets);
        return subsets > MaxSubsets
            ? $"mda would examine C({n}, {f}) > {MaxSubsets} subsets (max-subsets); lower f or raise max-subsets"
            : null;
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

        Span<bool> removed = m <= 512 ? stackalloc bool[m] : new bool[m];
        Span<int> combination = stackalloc int[f];
        Span<int> best = stackalloc int[f];
        int pairCount = SortPairsByDistance(m);
        double bestDiameter = double.PositiveInfinity;
        bool found = false;
        for (int k = 0; k < f; k++)
        {
            combination[k] = k;
        }

        do
        {
            removed.Clear();
            foreach (var r in combination)
            {
                removed[r] = true;
            }

            double diameter = 0;
            for (int p = 0; p < pairCount; p++)
            {
                int i = _pairs[2 * p], j = _pairs[2 * p + 1];
                if (!removed[i] && !removed[j])
                {
                    diameter = _pairDistances[p];
                    break;
                }
            }

            if (!found || diameter < bestDiameter)
            {
                found = true;
                bestDiameter = diameter;
                combination.CopyTo(best);
            }
        }
        while (NextCombination(combination, m));

        removed.Clear();
        foreach (var r in best)
        {
            removed[r] = true;
        }

        Span<int> chosen = m <= 512 ? stackalloc int[m - f] : new int[m - f];
        int count = 0;
        for (int a = 0; a < m; a++)
        {
            if (!removed[a])
            {
                chosen[count++] = a;
            }
        }

        var kept = _workspace.BatchRows(chosen);
        RowMeans.Mean(batch, kept, default, output, context.MaxDegreeOfParallelism);
        var weights = new double[n];
        foreach (var row in kept)
        {
            weights[row] = 1.0 / kept.Length;
        }

        return new AggregationReport(Name, kept, weights, NonFinite: _workspace.NonFiniteRows(n));
    }

    // All pairs i < j, ordered by decreasing distance (ties: by i, then j), so the first pair inside a subset is its diameter.
    private int SortPairsByDistance(int m)
    {
        int count = m * (m - 1) / 2;
        Scratch.AtLeast(ref _pairs, 2 * count);
        Scratch.AtLeast(ref _pairDistances, count);
        Scratch.AtLeast(ref _order, count);
        Scratch.AtLeast(ref _keys, count);
        var order = _order.AsSpan(0, count);
        var keys = _keys.AsSpan(0, count);
        int p = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = i + 1; j < m; j++)
            {
                keys[p] = -_workspace[i, j];
                order[p] = p;
                p++;
            }
        }

        keys.Sort(order);
        for (int q = 0; q < count; q++)
        {
            (_pairs[2 * q], _pairs[2 * q + 1]) = PairAt(order[q], m);
            _pairDistances[q] = -keys[q];
        }

        return count;
    }

    // The p-th pair (i, j), i < j, in the order i = 0, j = 1.. m−1; i = 1, j = 2.. and so on.
    private static (int I, int J) PairAt(int p, int m)
    {
        int i = 0;
        while (p >= m - 1 - i)
        {
            p -= m - 1 - i;
            i++;
        }

        return (i, i + 1 + p);
    }

    // The next f-combination of 0..m−1 in lexicographic order; false after the last one.
    private static bool NextCombination(Span<int> combination, int m)
    {
        int f = combination.Length;
        int k = f - 1;
        while (k >= 0 && combination[k] == m - f + k)
        {
            k--;
        }

        if (k < 0)
        {
            return false;
        }

        combination[k]++;
        for (int i = k + 1; i < f; i++)
        {
            combination[i] = combination[i - 1] + 1;
        }

        return true;
    }

    /// <summary>C(n, k), saturating just above <paramref name="cap"/> so that it never overflows.</summary>
    internal static long Binomial(int n, int k, long cap)
    {
        if (k < 0 || k > n)
        {
            return 0;
        }

        k = Math.Min(k, n - k);
        long result = 1;
        for (int i = 1; i <= k; i++)
        {
            // result·(n−k+i)/i stays an integer at every step; stop once it is past the cap.
            result = (long)((Int128)result * (n - k + i) / i);
            if (result > cap)
            {
                return cap + 1;
            }
        }

        return result;
    }
}
