using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Every worker answers after the same time in every round: no stragglers, deterministic (tests, wait-for-all
/// baselines). Spec: <c>constant [time=1]</c>, time &gt; 0. Draws nothing from the random source.
/// </summary>
public sealed class ConstantDelay : IDelayModel
{
    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">time is not finite and positive.</exception>
    public ConstantDelay(double time = 1)
    {
        Time = ParameterChecks.Positive("constant", "time", time);
    }

    /// <summary>The response time of every worker.</summary>
    public double Time { get; }

    /// <inheritdoc />
    public string Name => "constant";

    /// <inheritdoc />
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        return Time;
    }
}
