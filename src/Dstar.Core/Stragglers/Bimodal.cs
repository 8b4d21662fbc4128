using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Bimodal response time: a worker answers after <c>base</c>, or after <c>base · slowdown</c> when it is slow, and
/// each worker is slow with probability p. Persistent (default): worker i is slow in every round iff
/// hash(seed, i) &lt; p, a deterministic SplitMix64 hash, so the slow set is fixed for a run and the same across
/// runs with the same seed; redrawn (<c>persistent=false</c>): slowness is drawn from the round's random source for
/// each sample. Spec: <c>bimodal [p=0.2] [slowdown=10] [base=1] [persistent=true] [seed=0]</c>;
/// 0 ≤ p ≤ 1 (a probability: 0 and 1 are meaningful), slowdown ≥ 1, base &gt; 0.
/// </summary>
public sealed class Bimodal : IDelayModel
{
    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">p outside [0, 1], slowdown &lt; 1 or base not positive (all finite).</exception>
    public Bimodal(double probability = 0.2, double slowdown = 10, double baseTime = 1, bool persistent = true, int seed = 0)
    {
        Probability = ParameterChecks.InRange(Name, "p", probability, 0, 1);
        Slowdown = ParameterChecks.InRange(Name, "slowdown", slowdown, 1, double.MaxValue);
        BaseTime = ParameterChecks.Positive(Name, "base", baseTime);
        Persistent = persistent;
        Seed = seed;
    }

    /// <summary>p, the probability (and expected fraction) of slow workers.</summary>
    public double Probability { get; }

    /// <summary>s, the slow workers' time multiplier.</summary>
    public double Slowdown { get; }

    /// <summary>The fast workers' time.</summary>
    public double BaseTime { get; }

    /// <summary>True when the slow set is fixed per worker, false when it is redrawn every sample.</summary>
    public bool Persistent { get; }

    /// <summary>The seed of the persistent slow set.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    public string Name => "bimodal";

    /// <summary>True when <paramref name="worker"/> is in the persistent slow set (ignores <see cref="Persistent"/>).</summary>
    public bool IsPersistentlySlow(int worker) => UnitHash(Seed, worker) < Probability;

    /// <inheritdoc />
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        bool slow = Persistent ? IsPersistentlySlow(worker) : random.NextDouble() < Probability;
        return slow ? BaseTime * Slowdown : BaseTime;
    }

    // SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) finaliser of
    // (seed, worker), mapped to [0, 1) from its top 53 bits: stable across runtimes, unlike string or tuple hashes.
    private static double UnitHash(int seed, int worker)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)worker) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
