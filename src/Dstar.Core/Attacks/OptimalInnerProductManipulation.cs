using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

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
public sealed class OptimalInnerProductManipulation : IAttack, IScalarObjective
{
    private const string Label = "optimal-ipm";
    private readonly SimulatedRound _round = new();
    private float[]? _mean;
    private float[]? _candidate;

    /// <summary>Creates the search over ε ∈ [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <exception cref="ArgumentException">a bound is not finite and positive, low ≥ high, or grid/refine is out of range.</exception>
    public OptimalInnerProductManipulation(double low = 0.01, double high = 100, int grid = 25, int refine = 20)
    {
        Low = ParameterChecks.Positive(Label, "low", low);
        High = ParameterChecks.Positive(Label, "high", high);
        if (High <= Low)
        {
            throw ParameterChecks.Fail(Label, "high", high, $"a value > low = {low}");
        }

        Grid = (int)ParameterChecks.InRange(Label, "grid", grid, 2, 1000);
        Refine = (int)ParameterChecks.InRange(Label, "refine", refine, 0, 200);
    }

    /// <summary>Smallest ε tried.</summary>
    public double Low { get; }

    /// <summary>Largest ε tried.</summary>
    public double High { get; }

    /// <summary>Grid size of the coarse search.</summary>
    public int Grid { get; }

    /// <summary>Golden-section steps after the grid.</summary>
    public int Refine { get; }

    /// <summary>The ε chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastEpsilon { get; private set; } = double.NaN;

    /// <summary>The damage ‖agg − μ‖₂ that ε achieved in the simulated round.</summary>
    public double LastDamage { get; private set; } = double.NaN;

    /// <inheritdoc />
    public string Name => Label;

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        var mean = AttackChecks.Sized(ref _mean, honest.Dimension);
        var candidate = AttackChecks.Sized(ref _candidate, honest.Dimension);
        _round.Begin(Name, honest, context, byzantine.Count);
        ColumnStatistics.Mean(honest, mean);
        (LastEpsilon, LastDamage) = LineSearch.Maximise(this, Low, High, Grid, Refine, logarithmic: true);
        TensorPrimitives.Multiply(mean, (float)-LastEpsilon, candidate);
        AttackChecks.FillRows(byzantine, candidate);
    }

    double IScalarObjective.Evaluate(double epsilon)
    {
        TensorPrimitives.Multiply(_mean, (float)-epsilon, _candidate);
        return _round.Damage(_candidate, _mean);
    }
}
