using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// Optimal IPM: the IPM vector b = −ε·μ (Xie et al. 2019) with ε chosen each round to maximise the damage
/// ‖agg(honest ∪ f copies of b) − μ‖₂ through the server's actual <see cref="AttackContext.Pipeline"/> (the
/// "optimal" attacks of Allouah et al., AISTATS 2023, and ByzFL). ε is searched on a logarithmic grid of
/// <c>grid</c> values over [low, high] (ε spans orders of magnitude: 0.1 passes median-like rules, 100 breaks the mean),
/// then <c>refine</c> golden-section steps in ln ε around the best: exactly grid + refine runs of the pipeline.
/// Spec: <c>optimal-ipm [low=0.01] [high=100] [grid=25] [refine=20]</c>, 0 &lt; low &lt; high, 2 ≤ grid ≤ 1000,
/// 0 ≤ refine ≤ 200.
/// </summary>
/// <remarks>
/// Needs <see cref="AttackContext.Pipeline"/> (else <see cref="AttackException"/>) and at least one honest row; f is
/// the number of rows of the Byzantine batch. Cost: (grid + refine) × the pipeline's cost on h + f rows.
/// Not thread-safe: keeps scratch buffers.
/// </remarks>
public sealed class OptimalInnerProductManipulation : OptimalScalingAttack
{
    /// <summary>Creates the search over ε ∈ [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <exception cref="ArgumentException">a bound is not finite and positive, low ≥ high, or grid/refine is out of range.</exception>
    public OptimalInnerProductManipulation(double low = 0.01, double high = 100, int grid = 25, int refine = 20)
        : base("optimal-ipm", low, high, grid, refine, logarithmic: true)
    {
    }

    /// <summary>The ε chosen in the last <see cref="OptimalScalingAttack.Craft"/> (NaN before the first).</summary>
    public double LastEpsilon => LastScale;

    private protected override void Prepare(GradientBatch honest, Span<float> mean, Span<float> scratch) =>
        ColumnStatistics.Mean(honest, mean);

    private protected override void Write(double scale, ReadOnlySpan<float> mean, Span<float> candidate) =>
        TensorPrimitives.Multiply(mean, (float)-scale, candidate);
}
