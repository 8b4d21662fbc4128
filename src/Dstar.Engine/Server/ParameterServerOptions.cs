namespace Dstar.Engine.Server;

/// <summary>The round protocol's knobs; plain data, checked by <see cref="ParameterServer"/>'s constructor.</summary>
public sealed record ParameterServerOptions
{
    /// <summary>N ≥ 1: the number of workers.</summary>
    public required int WorkerCount { get; init; }

    /// <summary>k, 1 ≤ k ≤ N: gradients per round (k = N waits for everyone); with <see cref="AutoK"/>, k_max.</summary>
    public required int K { get; init; }

    /// <summary><c>k: auto</c>: pick k each round with <see cref="AdaptiveK"/>, between its floor (k_min, the rule's least n, 3f) and <see cref="K"/>.</summary>
    public bool AutoK { get; init; }

    /// <summary>f ≥ 0: how many Byzantine rows the rule must assume (a rule spec's own <c>f=</c> wins).</summary>
    public int ByzantineCount { get; init; }

    /// <summary>Seconds after publish after which the round closes with at least k_min gradients; null for none.</summary>
    public double? Deadline { get; init; }

    /// <summary>k_min; null means ⌈k/2⌉+1 capped at k. With <see cref="AutoK"/> also the least k picked.</summary>
    public int? MinimumCount { get; init; }

    /// <summary>The run seed; each round's aggregation and validation generators derive from it.</summary>
    public int Seed { get; init; }

    /// <summary>Threads a rule may use for its column tiles.</summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;
}
