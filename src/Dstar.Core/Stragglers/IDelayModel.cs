namespace Dstar.Core.Stragglers;

/// <summary>A worker's response time in one round (seconds of virtual time); +∞ means it never answers.</summary>
public interface IDelayModel
{
    /// <summary>The registry name, e.g. <c>pareto</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The response time of <paramref name="worker"/> in <paramref name="round"/>. Deterministic given the state of
    /// <paramref name="random"/>; persistent per-worker traits derive from the model's own seed, not from it.
    /// </summary>
    double Sample(int worker, int round, Random random);
}
