using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// Min-Sum (Shejwalkar &amp; Houmansadr, "Manipulating the Byzantine", NDSS 2021, §IV-B, eq. 6): b = μ + γp with the
/// largest γ such that the sum of b's squared distances to the honest rows is no more than that of any honest row,
/// Σᵢ ‖b − xᵢ‖² ≤ maxᵢ Σⱼ ‖xᵢ − xⱼ‖², found by bisection. p is −σ (<c>std</c>, default), −μ/‖μ‖ (<c>unit</c>) or
/// −sign(μ) (<c>sign</c>). Spec: <c>min-sum [direction=std|unit|sign]</c>.
/// </summary>
/// <remarks>
/// The right-hand side needs no pairwise distances: Σⱼ ‖xᵢ − xⱼ‖² = h‖xᵢ − μ‖² + Σⱼ ‖xⱼ − μ‖², so its maximum is
/// h·maxᵢ aᵢ + Σⱼ aⱼ with aᵢ = ‖xᵢ − μ‖². Omniscient; needs at least one honest row. With one honest row or p = 0 it
/// sends μ (γ = 0). Cost O(h·d), then O(h) per bisection step. Not thread-safe.
/// </remarks>
public sealed class MinSum : IAttack, IScaleCondition
{
    private readonly PerturbedMean _geometry = new();
    private double _budget;
    private float[]? _output;

    /// <summary>Creates the attack along <paramref name="direction"/>.</summary>
    public MinSum(PerturbationDirection direction = PerturbationDirection.StandardDeviation)
    {
        Direction = direction;
    }

    /// <summary>The direction p.</summary>
    public PerturbationDirection Direction { get; }

    /// <summary>γ chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastScale { get; private set; } = double.NaN;

    /// <inheritdoc />
    public string Name => "min-sum";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        _geometry.Compute(honest, Direction);
        double largest = 0, total = 0;
        foreach (var offset in _geometry.Offsets)
        {
            largest = Math.Max(largest, offset);
            total += offset;
        }

        _budget = _geometry.Count * largest + total;
        LastScale = _geometry.DirectionNormSquared > 0 ? Bisection.Largest(this) : 0;
        var output = Scratch.Exactly(ref _output, honest.Dimension);
        _geometry.Write(LastScale, output);
        AttackChecks.FillRows(byzantine, output);
    }

    bool IScaleCondition.Holds(double scale)
    {
        double sum = 0;
        for (int i = 0; i < _geometry.Count; i++)
        {
            sum += _geometry.SquaredDistance(i, scale);
        }

        return sum <= _budget;
    }
}
