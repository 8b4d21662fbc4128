using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Optimal ALIE: the ALIE vector b = μ − z·σ (Baruch et al. 2019) with z chosen each round to maximise the damage
/// ‖agg(honest ∪ f copies of b) − μ‖₂ through the server's actual <see cref="AttackContext.Pipeline"/>, as in the
/// "optimal" attacks of Allouah et al. (AISTATS 2023) and ByzFL. The search is a linear grid of <c>grid</c> values of
/// z over [low, high], then <c>refine</c> golden-section steps around the best one: exactly grid + refine runs of the
/// pipeline.
/// Spec: <c>optimal-alie [low=0] [high=10] [grid=21] [refine=20]</c>, low &lt; high, 2 ≤ grid ≤ 1000,
/// 0 ≤ refine ≤ 200.
/// </summary>
/// <remarks>
/// Needs <see cref="AttackContext.Pipeline"/> (else <see cref="AttackException"/>) and at least one honest row; f is
/// the number of rows of the Byzantine batch. Uses <see cref="AttackContext.AggregationContext"/> (g₀, f…) when given.
/// Cost: (grid + refine) × the pipeline's cost on h + f rows. Not thread-safe: keeps scratch buffers.
/// </remarks>
public sealed class OptimalAlie : IAttack, IScalarObjective
{
    private const string Label = "optimal-alie";
    private readonly SimulatedRound _round = new();
    private float[]? _mean;
    private float[]? _deviation;
    private float[]? _candidate;

    /// <summary>Creates the search over z ∈ [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <exception cref="ArgumentException">a bound is not finite, low ≥ high, or grid/refine is out of range.</exception>
    public OptimalAlie(double low = 0, double high = 10, int grid = 21, int refine = 20)
    {
        Low = ParameterChecks.Finite(Label, "low", low);
        High = ParameterChecks.Finite(Label, "high", high);
        if (High <= Low)
        {
            throw ParameterChecks.Fail(Label, "high", high, $"a value > low = {low}");
        }

        Grid = (int)ParameterChecks.InRange(Label, "grid", grid, 2, 1000);
        Refine = (int)ParameterChecks.InRange(Label, "refine", refine, 0, 200);
    }

    /// <summary>Smallest z tried.</summary>
    public double Low { get; }

    /// <summary>Largest z tried.</summary>
    public double High { get; }

    /// <summary>Grid size of the coarse search.</summary>
    public int Grid { get; }

    /// <summary>Golden-section steps after the grid.</summary>
    public int Refine { get; }

    /// <summary>The z chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastZ { get; private set; } = double.NaN;

    /// <summary>The damage ‖agg − μ‖₂ that z achieved in the simulated round.</summary>
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
        int d = honest.Dimension;
        var mean = AttackChecks.Sized(ref _mean, d);
        var deviation = AttackChecks.Sized(ref _deviation, d);
        var candidate = AttackChecks.Sized(ref _candidate, d);
        _round.Begin(Name, honest, context, byzantine.Count);
        ColumnStatistics.MeanAndStandardDeviation(honest, mean, deviation, candidate);
        (LastZ, LastDamage) = LineSearch.Maximise(this, Low, High, Grid, Refine, logarithmic: false);
        Alie.Write(mean, deviation, LastZ, candidate);
        AttackChecks.FillRows(byzantine, candidate);
    }

    double IScalarObjective.Evaluate(double z)
    {
        Alie.Write(_mean, _deviation, z, _candidate);
        return _round.Damage(_candidate, _mean);
    }
}
