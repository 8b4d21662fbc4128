using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Gaussian noise: each Byzantine row is an independent draw b ~ N(0, σ²I) from <see cref="AttackContext.Random"/>
/// (the standard noise baseline, e.g. Blanchard et al. 2017). Spec: <c>gaussian [sigma=1]</c>, σ &gt; 0.
/// Not omniscient; needs no honest rows. Cost O(f·d) draws. Same seed → same rows.
/// </summary>
public sealed class GaussianNoise : IAttack
{
    /// <summary>Creates the attack with standard deviation <paramref name="sigma"/>.</summary>
    /// <exception cref="ArgumentException">σ is not finite and positive.</exception>
    public GaussianNoise(double sigma = 1)
    {
        Sigma = ParameterChecks.Positive("gaussian", "sigma", sigma);
    }

    /// <summary>σ, the standard deviation of every coordinate.</summary>
    public double Sigma { get; }

    /// <inheritdoc />
    public string Name => "gaussian";

    /// <inheritdoc />
    public bool IsOmniscient => false;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: false);
        ArgumentNullException.ThrowIfNull(context);
        for (int i = 0; i < byzantine.Count; i++)
        {
            StandardNormal.Fill(context.Random, byzantine.Row(i), Sigma);
        }
    }
}
