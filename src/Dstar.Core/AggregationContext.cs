namespace Dstar.Core;

/// <summary>The loss of the parameter server's trusted validation set at a parameter vector (used by Zeno).</summary>
public delegate double ValidationLoss(ReadOnlySpan<float> parameters);

/// <summary>
/// What a rule may know besides the batch: the assumed Byzantine count f, the server's validation gradient g₀,
/// a seeded random source, the previous round's aggregate, and for Zeno the parameters and a validation loss.
/// </summary>
public sealed class AggregationContext
{
    /// <summary>Creates a context; <paramref name="random"/> defaults to a generator seeded with 0.</summary>
    public AggregationContext(int byzantineCount = 0, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineCount);
        ByzantineCount = byzantineCount;
        Random = random ?? new Random(0);
    }

    /// <summary>f: how many of the rows the rule must assume Byzantine.</summary>
    public int ByzantineCount { get; set; }

    /// <summary>g₀, the gradient the parameter server computed on its trusted validation set, when it has one.</summary>
    public float[]? ValidationGradient { get; set; }

    /// <summary>Seeded source for rules and pre-aggregators that draw (bucketing, median-of-means).</summary>
    public Random Random { get; set; }

    /// <summary>The previous round's aggregate (centered clipping starts there); null in the first round.</summary>
    public float[]? PreviousAggregate { get; set; }

    /// <summary>x_t, the parameters the gradients were computed at (Zeno).</summary>
    public float[]? Parameters { get; set; }

    /// <summary>F_val(x), the validation loss at a parameter vector (Zeno).</summary>
    public ValidationLoss? ValidationLoss { get; set; }

    /// <summary>
    /// The worker id of each row of the batch the rule sees (row i came from worker Workers[i]), or null when unknown or
    /// when a pre-aggregator changed the rows. dSTAR's reputation needs it.
    /// </summary>
    public IReadOnlyList<int>? Workers { get; set; }

    /// <summary>Threads a rule may use for its column tiles; 1 means the calling thread only.</summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;
}
