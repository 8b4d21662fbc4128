using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// The search shared by the "optimal" attacks (Allouah et al., AISTATS 2023; ByzFL): a family of Byzantine vectors
/// b(s) with one scalar s (ALIE's z, IPM's ε), and s chosen each round to maximise the damage
/// ‖agg(honest ∪ f copies of b(s)) − μ‖₂ through the server's actual <see cref="AttackContext.Pipeline"/>. The search
/// is a grid of <see cref="Grid"/> values of s over [<see cref="Low"/>, <see cref="High"/>] (linear or logarithmic),
/// then <see cref="Refine"/> golden-section steps around the best: exactly grid + refine runs of the pipeline.
/// </summary>
/// <remarks>
/// Needs <see cref="AttackContext.Pipeline"/> (else <see cref="AttackException"/>) and at least one honest row; f is
/// the number of rows of the Byzantine batch. Cost: (grid + refine) × the pipeline's cost on h + f rows.
/// Not thread-safe: keeps scratch buffers.
/// </remarks>
public abstract class OptimalScalingAttack : IAttack, IScalarObjective
{
    private readonly SimulatedRound _round = new();
    private readonly bool _logarithmic;
    private float[]? _mean;
    private float[]? _candidate;

    /// <summary>Validates the search range; <paramref name="logarithmic"/> bounds must be positive.</summary>
    /// <exception cref="ArgumentException">a bound is not finite (or not positive for a logarithmic grid), low ≥ high, or grid/refine is out of range.</exception>
    private protected OptimalScalingAttack(string name, double low, double high, int grid, int refine, bool logarithmic)
    {
        Name = name;
        _logarithmic = logarithmic;
        Low = logarithmic ? ParameterChecks.Positive(name, "low", low) : ParameterChecks.Finite(name, "low", low);
        High = logarithmic ? ParameterChecks.Positive(name, "high", high) : ParameterChecks.Finite(name, "high", high);
        if (High <= Low)
        {
            throw ParameterChecks.Fail(name, "high", high, $"a value > low = {low}");
        }

        Grid = (int)ParameterChecks.InRange(name, "grid", grid, 2, 1000);
        Refine = (int)ParameterChecks.InRange(name, "refine", refine, 0, 200);
    }

    /// <summary>Smallest value of the scalar tried.</summary>
    public double Low { get; }

    /// <summary>Largest value of the scalar tried.</summary>
    public double High { get; }

    /// <summary>Grid size of the coarse search.</summary>
    public int Grid { get; }

    /// <summary>Golden-section steps after the grid.</summary>
    public int Refine { get; }

    /// <summary>The scalar chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastScale { get; private set; } = double.NaN;

    /// <summary>The damage ‖agg − μ‖₂ that the chosen scalar achieved in the simulated round.</summary>
    public double LastDamage { get; private set; } = double.NaN;

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        var mean = Scratch.Exactly(ref _mean, honest.Dimension);
        var candidate = Scratch.Exactly(ref _candidate, honest.Dimension);
        _round.Begin(Name, honest, context, byzantine.Count);
        Prepare(honest, mean, candidate);
        (LastScale, LastDamage) = LineSearch.Maximise(this, Low, High, Grid, Refine, _logarithmic);
        Write(LastScale, mean, candidate);
        AttackChecks.FillRows(byzantine, candidate);
    }

    /// <summary>Computes this round's statistics of the honest rows: μ into <paramref name="mean"/>, and any other the
    /// family needs into the attack's own buffers (<paramref name="scratch"/> is free for temporary use).</summary>
    private protected abstract void Prepare(GradientBatch honest, Span<float> mean, Span<float> scratch);

    /// <summary>Writes b(<paramref name="scale"/>) into <paramref name="candidate"/>.</summary>
    private protected abstract void Write(double scale, ReadOnlySpan<float> mean, Span<float> candidate);

    double IScalarObjective.Evaluate(double scale)
    {
        Write(scale, _mean, _candidate);
        return _round.Damage(_candidate, _mean);
    }
}
