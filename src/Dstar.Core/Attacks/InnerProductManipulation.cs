using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Inner-product manipulation, "Fall of Empires" (Xie, Koyejo &amp; Gupta, UAI 2019, §4): b = −ε·μ, which makes the
/// aggregate's inner product with the true gradient negative when ε is large enough for the rule to let it through.
/// Spec: <c>ipm [epsilon=0.1]</c>, ε &gt; 0 (the paper uses 0.1 against median-like rules and 100 against Krum).
/// Omniscient; needs at least one honest row. Cost O(h·d).
/// </summary>
public sealed class InnerProductManipulation : IAttack
{
    private float[]? _mean;

    /// <summary>Creates the attack with scale <paramref name="epsilon"/>.</summary>
    /// <exception cref="ArgumentException">ε is not finite and positive.</exception>
    public InnerProductManipulation(double epsilon = 0.1)
    {
        Epsilon = ParameterChecks.Positive("ipm", "epsilon", epsilon);
    }

    /// <summary>ε, the scale of the reversed mean.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public string Name => "ipm";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        var mean = Scratch.Exactly(ref _mean, honest.Dimension);
        ColumnStatistics.Mean(honest, mean);
        TensorPrimitives.Multiply(mean, (float)-Epsilon, mean);
        AttackChecks.FillRows(byzantine, mean);
    }
}
