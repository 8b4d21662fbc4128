namespace Dstar.Core.Attacks;

/// <summary>A Byzantine attack: the honest rows of the round → the f rows the Byzantine workers send.</summary>
public interface IAttack
{
    /// <summary>The registry name, e.g. <c>alie</c>.</summary>
    string Name { get; }

    /// <summary>True when the attack reads the honest gradients of the round (omniscient).</summary>
    bool IsOmniscient { get; }

    /// <summary>
    /// Writes <see cref="GradientBatch.Count"/> Byzantine rows into <paramref name="byzantine"/>, crafted from
    /// <paramref name="honest"/> (same dimension). The honest rows are read, never changed.
    /// </summary>
    /// <exception cref="AttackException">the dimensions differ, an omniscient attack got no honest rows, or the attack
    /// cannot run in this context (see each attack).</exception>
    void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine);
}

/// <summary>What an attacker knows in one round.</summary>
public sealed class AttackContext
{
    /// <summary>Creates a context for n aggregated rows of which f are Byzantine.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, f &lt; 0 or f &gt; n.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public AttackContext(int workerCount, int byzantineCount, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(byzantineCount, workerCount);
        ArgumentNullException.ThrowIfNull(random);
        WorkerCount = workerCount;
        ByzantineCount = byzantineCount;
        Random = random;
    }

    /// <summary>n: the number of rows the server aggregates (honest plus Byzantine).</summary>
    public int WorkerCount { get; }

    /// <summary>f: the number of Byzantine rows.</summary>
    public int ByzantineCount { get; }

    /// <summary>Seeded random source.</summary>
    public Random Random { get; }

    /// <summary>The server's pre-aggregators and rule, for attacks that search through them (optimal ALIE/IPM).</summary>
    public AggregationPipeline? Pipeline { get; init; }

    /// <summary>The context the server will aggregate with (g₀, f…), for adaptive attacks; null when unknown.</summary>
    public AggregationContext? AggregationContext { get; init; }
}
