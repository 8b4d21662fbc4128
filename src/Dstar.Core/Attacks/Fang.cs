using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Fang et al.'s full-knowledge attack on trimmed mean and median (Fang, Cao, Jia, Gong, "Local Model Poisoning Attacks
/// to Byzantine-Robust Federated Learning", USENIX Security 2020, §4.2, "Attacking Trimmed mean"), in gradient form:
/// per coordinate j, with sⱼ = sign(μⱼ) the direction the honest gradients would move the aggregate, and wⱼ^max, wⱼ^min
/// the largest and smallest honest values, each Byzantine row draws bⱼ uniformly from
/// [wⱼ^min/β, wⱼ^min] (wⱼ^min &gt; 0) or [β·wⱼ^min, wⱼ^min] (else) when sⱼ &gt; 0, and from [wⱼ^max, β·wⱼ^max] (wⱼ^max &gt; 0) or
/// [wⱼ^max, wⱼ^max/β] (else) when sⱼ ≤ 0, so that every value sits just beyond the honest extreme opposite sⱼ.
/// Spec: <c>fang [b=2]</c>, β &gt; 1 (the paper's b).
/// </summary>
/// <remarks>
/// Omniscient (reads the honest rows); any n, f; needs at least one honest row. Draws from the attack context's seeded
/// random source, one value per Byzantine row and coordinate. Cost O((h + f)·d) for h honest rows. Not thread-safe.
/// </remarks>
public sealed class Fang : IAttack
{
    private float[]? _mean;
    private float[]? _low;
    private float[]? _high;

    /// <summary>Creates the attack.</summary>
    /// <exception cref="ArgumentException">β is not a finite number above 1.</exception>
    public Fang(double beta = 2)
    {
        Beta = ParameterChecks.InRange("fang", "b", beta, 1 + 1e-9, double.MaxValue);
    }

    /// <summary>β: how far beyond the honest extreme the values may go (the paper's b).</summary>
    public double Beta { get; }

    /// <inheritdoc />
    public string Name => "fang";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        int d = honest.Dimension;
        var mean = Scratch.Exactly(ref _mean, d);
        var low = Scratch.Exactly(ref _low, d);
        var high = Scratch.Exactly(ref _high, d);
        ColumnStatistics.Mean(honest, mean);
        honest.Row(0).CopyTo(low);
        honest.Row(0).CopyTo(high);
        for (int i = 1; i < honest.Count; i++)
        {
            var row = honest.Row(i);
            for (int j = 0; j < d; j++)
            {
                low[j] = Math.Min(low[j], row[j]);
                high[j] = Math.Max(high[j], row[j]);
            }
        }

        for (int r = 0; r < byzantine.Count; r++)
        {
            var row = byzantine.Row(r);
            for (int j = 0; j < d; j++)
            {
                var (from, to) = Interval(mean[j], low[j], high[j]);
                row[j] = (float)(from + (context.Random.NextDouble() * (to - from)));
            }
        }
    }

    /// <summary>The interval bⱼ is drawn from, for honest mean μⱼ and extremes wⱼ^min, wⱼ^max.</summary>
    public (double From, double To) Interval(double mean, double low, double high) =>
        mean > 0
            ? (low > 0 ? (low / Beta, low) : (Beta * low, low))
            : (high > 0 ? (high, Beta * high) : (high / Beta, high));
}
