using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// Sign flip: every Byzantine worker sends b = −μ, the negated coordinate-wise mean of the round's honest gradients
/// (the "reversed gradient" attack of the Byzantine-robust SGD literature, e.g. Allen-Zhu et al. 2020).
/// Spec: <c>sign-flip</c> (no parameters). Omniscient. Any n, f. Cost O(h·d) for h honest rows.
/// </summary>
/// <remarks>Needs at least one honest row (else <see cref="AttackException"/>). Not thread-safe: keeps a scratch μ.</remarks>
public sealed class SignFlip : IAttack
{
    private float[]? _mean;

    /// <inheritdoc />
    public string Name => "sign-flip";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        var mean = Scratch.Exactly(ref _mean, honest.Dimension);
        ColumnStatistics.Mean(honest, mean);
        TensorPrimitives.Negate(mean, mean);
        AttackChecks.FillRows(byzantine, mean);
    }
}
