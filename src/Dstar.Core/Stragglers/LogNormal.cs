using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Log-normal response time T = exp(μ + σZ), Z ~ N(0, 1): median e^μ, mean e^(μ + σ²/2).
/// Spec: <c>lognormal [mu=0] [sigma=1]</c>, μ finite (any sign: it is a log-time), σ &gt; 0.
/// Two uniform draws per sample (Box–Muller); the worker and round do not matter.
/// </summary>
public sealed class LogNormal : IDelayModel
{
    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">μ is not finite, or σ is not finite and positive.</exception>
    public LogNormal(double mu = 0, double sigma = 1)
    {
        Mu = ParameterChecks.Finite(Name, "mu", mu);
        Sigma = ParameterChecks.Positive(Name, "sigma", sigma);
    }

    /// <summary>μ, the mean of ln T.</summary>
    public double Mu { get; }

    /// <summary>σ, the standard deviation of ln T.</summary>
    public double Sigma { get; }

    /// <inheritdoc />
    public string Name => "lognormal";

    /// <inheritdoc />
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        return Math.Exp(Mu + Sigma * StandardNormal.Sample(random));
    }
}
