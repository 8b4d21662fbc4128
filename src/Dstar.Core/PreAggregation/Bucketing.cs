using Dstar.Core.Kernels;

namespace Dstar.Core.PreAggregation;

/// <summary>
/// Bucketing (Karimireddy, He, Jaggi, "Byzantine-robust learning on heterogeneous datasets via bucketing", ICLR 2022,
/// Algorithm 1): shuffle the n rows with the context's seeded random source, cut them into ⌈n/s⌉ buckets of s
/// consecutive rows (the last may be smaller) and replace the batch by the buckets' means.
/// </summary>
/// <remarks>
/// Requirements: n ≥ 1, s ≥ 1. Cost: one pass, O(n·d). Returns a batch this instance owns and reuses (valid until
/// the next call). A non-finite row makes its bucket's mean non-finite; the rule after it drops that bucket.
/// The Byzantine count f is left as is: f Byzantine rows can spoil at most f buckets.
/// </remarks>
public sealed class Bucketing : IPreAggregator
{
    private GradientBatch? _buckets;
    private int[] _order = [];

    /// <summary>Creates the pre-aggregator with bucket size <paramref name="size"/> (s).</summary>
    /// <exception cref="ArgumentOutOfRangeException">size &lt; 1.</exception>
    public Bucketing(int size = 2)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"bucketing: size must be ≥ 1, got {size}");
        }

        Size = size;
    }

    /// <summary>s, rows per bucket.</summary>
    public int Size { get; }

    /// <inheritdoc />
    public string Name => "bucketing";

    /// <inheritdoc />
    public GradientBatch Apply(GradientBatch batch, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        int n = batch.Count;
        RuleRequirements.Ensure(RuleRequirements.AtLeast(Name, n, 1));

        int buckets = (n + Size - 1) / Size;
        if (_buckets is null || _buckets.Dimension != batch.Dimension || _buckets.Capacity < buckets)
        {
            _buckets = new GradientBatch(buckets, batch.Dimension);
        }

        _buckets.Count = buckets;
        if (_order.Length != n)
        {
            _order = RowPointers.All(n);
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                _order[i] = i;
            }
        }

        context.Random.Shuffle(_order);
        for (int b = 0; b < buckets; b++)
        {
            int first = b * Size, length = Math.Min(Size, n - first);
            RowMeans.Mean(batch, _order.AsSpan(first, length), default, _buckets.Row(b), context.MaxDegreeOfParallelism);
        }

        return _buckets;
    }
}
