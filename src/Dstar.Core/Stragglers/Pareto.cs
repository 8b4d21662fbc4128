using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Pareto (heavy-tailed) response time: P(T &gt; t) = (x_m / t)^α for t ≥ x_m, sampled as x_m · U^(−1/α).
/// Mean x_m·α/(α − 1) when α &gt; 1 (infinite otherwise), median x_m·2^(1/α). Spec: <c>pareto [xm=1] [alpha=1.5]</c>,
/// x_m &gt; 0, α &gt; 0. One uniform draw per sample; the worker and round do not matter.
/// </summary>
public sealed class Pareto : IDelayModel
{
    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">x_m or α is not finite and positive.</exception>
    public Pareto(double scale = 1, double shape = 1.5)
    {
        Scale = ParameterChecks.Positive(Name, "xm", scale);
        Shape = ParameterChecks.Positive(Name, "alpha", shape);
    }

    /// <summary>x_m, the minimum time.</summary>
    public double Scale { get; }

    /// <summary>α, the tail index (smaller is heavier).</summary>
    public double Shape { get; }

    /// <inheritdoc />
    public string Name => "pareto";

    /// <inheritdoc />
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        return Scale * Math.Pow(DelayChecks.OpenUniform(random), -1 / Shape);
    }
}
