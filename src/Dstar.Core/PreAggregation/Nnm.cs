using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;

namespace Dstar.Core.PreAggregation;

/// <summary>
/// Nearest-neighbour mixing, NNM (Allouah, Farhadkhani, Guerraoui, Gupta, Pinot, Stephan, "Fixing by Mixing: A Recipe
/// for Optimal Byzantine ML under Heterogeneity", AISTATS 2023, Algorithm 1): each row xᵢ becomes the mean of its
/// n − f nearest rows in Euclidean distance, itself included (ties: the lower row index).
/// </summary>
/// <remarks>
/// <para>Requirements: n ≥ f + 1. f is the spec's <c>f=</c> when given, else the context's.</para>
/// <para>
/// Non-finite rows: they take no part in any neighbourhood and are passed through unchanged, so that the rule after
/// NNM drops and reports them under their own row index; n − f then counts the finite rows only, and the rule throws
/// <see cref="AggregationException"/> when fewer than f + 1 finite rows remain.
/// </para>
/// <para>
/// Output: a batch this instance owns and reuses (valid until the next call); the input is not changed.
/// Cost: the Gram pass (see <see cref="PairwiseDistances"/>), O(n² log n) for the neighbourhoods, then one tiled pass
/// forming all n means, O(n·(n − f)·d) multiply-adds from cache. Steady state allocates nothing.
/// </para>
/// </remarks>
public sealed class Nnm : IPreAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private GradientBatch? _output;
    private double[] _weights = Array.Empty<double>();
    private double[] _row = Array.Empty<double>();
    private int[] _order = Array.Empty<int>();

    /// <summary>Creates NNM; <paramref name="byzantineCount"/> overrides the context's f when given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">byzantineCount is negative.</exception>
    public Nnm(int? byzantineCount = null)
    {
        ByzantineCount = RuleRequirements.ValidByzantineCount(Name, byzantineCount);
    }

    /// <summary>f as given in the spec, or null to use the context's.</summary>
    public int? ByzantineCount { get; }

    /// <inheritdoc />
    public string Name => "nnm";

    /// <summary>Why NNM cannot run on n rows with f Byzantine; null when it can.</summary>
    public static string? CheckRequirements(int n, int f) =>
        RuleRequirements.AtLeast("nnm", n, "f+1", f + 1, f);

    /// <inheritdoc />
    public GradientBatch Apply(GradientBatch batch, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int f = RuleRequirements.ByzantineCount(ByzantineCount, context);
        int n = batch.Count, d = batch.Dimension;
        RuleRequirements.Ensure(CheckRequirements(n, f));
        int m = _workspace.Measure(batch, context.MaxDegreeOfParallelism);
        RuleRequirements.EnsureOnFinite(CheckRequirements(m, f), n, m);

        if (_output is null || _output.Dimension != d || _output.Capacity < n)
        {
            _output = new GradientBatch(n, d);
        }

        _output.Count = n;
        int keep = m - f;
        Scratch.AtLeast(ref _weights, m * m);
        Scratch.AtLeast(ref _row, m);
        Scratch.AtLeast(ref _order, m);
        var weights = _weights.AsSpan(0, m * m);
        weights.Clear();
        for (int a = 0; a < m; a++)
        {
            _workspace.Distances.Slice(a * m, m).CopyTo(_row);
            // Itself first (distance 0, even when another row coincides), then by distance and index.
            _row[a] = double.NegativeInfinity;
            var order = _order.AsSpan(0, m);
            MultiKrum.LowestScores(_row.AsSpan(0, m), order);
            for (int k = 0; k < keep; k++)
            {
                weights[a * m + order[k]] = 1.0 / keep;
            }
        }

        var rows = _workspace.Rows;
        WeightedRowSums.Mix(batch, rows, weights, _output, rows);
        for (int i = 0, next = 0; i < n; i++)
        {
            if (next < m && rows[next] == i)
            {
                next++;
            }
            else
            {
                batch.Row(i).CopyTo(_output.Row(i));
            }
        }

        return _output;
    }
}
