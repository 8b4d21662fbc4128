using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Optimal ALIE: the ALIE vector b = μ − z·σ (Baruch et al. 2019) with z chosen each round to maximise the damage
/// ‖agg(honest ∪ f copies of b) − μ‖₂ through the server's actual <see cref="AttackContext.Pipeline"/>, as in the
/// "optimal" attacks of Allouah et al. (AISTATS 2023) and ByzFL. The search is a linear grid of <c>grid</c> values of
/// z over [low, high], then <c>refine</c> golden-section steps around the best one: exactly grid + refine runs of the
/// pipeline (<see cref="OptimalScalingAttack"/>).
/// Spec: <c>optimal-alie [low=0] [high=10] [grid=21] [refine=20]</c>, low &lt; high, 2 ≤ grid ≤ 1000,
/// 0 ≤ refine ≤ 200.
/// </summary>
/// <remarks>
/// Needs <see cref="AttackContext.Pipeline"/> (else <see cref="AttackException"/>) and at least one honest row; f is
/// the number of rows of the Byzantine batch. Uses <see cref="AttackContext.AggregationContext"/> (g₀, f…) when given.
/// Cost: (grid + refine) × the pipeline's cost on h + f rows. Not thread-safe: keeps scratch buffers.
/// </remarks>
public sealed class OptimalAlie : OptimalScalingAttack
{
    private float[]? _deviation;

    /// <summary>Creates the search over z ∈ [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <exception cref="ArgumentException">a bound is not finite, low ≥ high, or grid/refine is out of range.</exception>
    public OptimalAlie(double low = 0, double high = 10, int grid = 21, int refine = 20)
        : base("optimal-alie", low, high, grid, refine, logarithmic: false)
    {
    }

    /// <summary>The z chosen in the last <see cref="OptimalScalingAttack.Craft"/> (NaN before the first).</summary>
    public double LastZ => LastScale;

    private protected override void Prepare(GradientBatch honest, Span<float> mean, Span<float> scratch) =>
        ColumnStatistics.MeanAndStandardDeviation(honest, mean, Scratch.Exactly(ref _deviation, honest.Dimension), scratch);

    private protected override void Write(double scale, ReadOnlySpan<float> mean, Span<float> candidate) =>
        Alie.Write(mean, _deviation, scale, candidate);
}
