using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// Min-Max (Shejwalkar &amp; Houmansadr, "Manipulating the Byzantine", NDSS 2021, §IV-B, eq. 5): b = μ + γp with the
/// largest γ such that b is no farther from any honest row than two honest rows are from each other,
/// maxᵢ ‖b − xᵢ‖ ≤ max_{i,j} ‖xᵢ − xⱼ‖, found by bisection (the set of admissible γ is an interval, each distance being
/// convex in γ). p is −σ (<c>std</c>, default), −μ/‖μ‖ (<c>unit</c>) or −sign(μ) (<c>sign</c>).
/// Spec: <c>min-max [direction=std|unit|sign]</c>.
/// </summary>
/// <remarks>
/// Omniscient; needs at least one honest row. With one honest row (no spread) or p = 0 it sends μ (γ = 0).
/// Cost: the pairwise distances O(h²·d), plus O(h·d) and O(h) per bisection step. Not thread-safe.
/// </remarks>
public sealed class MinMax : IAttack, IScaleCondition
{
    private readonly PerturbedMean _geometry = new();
    private double[] _distances = [];
    private double _radiusSquared;
    private float[]? _output;

    /// <summary>Creates the attack along <paramref name="direction"/>.</summary>
    public MinMax(PerturbationDirection direction = PerturbationDirection.StandardDeviation)
    {
        Direction = direction;
    }

    /// <summary>The direction p.</summary>
    public PerturbationDirection Direction { get; }

    /// <summary>γ chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastScale { get; private set; } = double.NaN;

    /// <inheritdoc />
    public string Name => "min-max";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        int h = honest.Count;
        _geometry.Compute(honest, Direction);
        if (_distances.Length < h * h)
        {
            _distances = new double[h * h];
        }

        PairwiseDistances.Squared(honest, _distances);
        _radiusSquared = 0;
        for (int k = 0; k < h * h; k++)
        {
            _radiusSquared = Math.Max(_radiusSquared, _distances[k]);
        }

        LastScale = _geometry.DirectionNormSquared > 0 ? Bisection.Largest(this) : 0;
        var output = Scratch.Exactly(ref _output, honest.Dimension);
        _geometry.Write(LastScale, output);
        AttackChecks.FillRows(byzantine, output);
    }

    bool IScaleCondition.Holds(double scale)
    {
        for (int i = 0; i < _geometry.Count; i++)
        {
            if (_geometry.SquaredDistance(i, scale) > _radiusSquared)
            {
                return false;
            }
        }

        return true;
    }
}
