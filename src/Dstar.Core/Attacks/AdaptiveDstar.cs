using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// The adaptive attack against the dSTAR filter (Yan et al., arXiv 2412.07151; our reading in docs DSTAR.md): it
/// knows the filter and sends b = μ + γp with the largest γ for which b still passes, δ_b ≤ τ·δ_ref, where
/// m = coordinate-wise median(honest ∪ f copies of b ∪ {g₀}), δ_b = ‖b − m‖₂ and δ_ref = ‖g₀ − m‖₂·√batch-ratio.
/// Without g₀ (<see cref="AttackContext.AggregationContext"/> null or its ValidationGradient null), or with
/// <c>reference=median-deviation</c>, m leaves g₀ out and δ_ref is the median of the worker rows' δᵢ.
/// The Byzantine vector sits on the filter's edge, in the direction p = −σ, −μ/‖μ‖ or −sign(μ) (as Min-Max).
/// Spec: <c>adaptive-dstar [tau=2] [direction=std|unit|sign] [reference=validation|median-deviation]
/// [batch-ratio=1] [margin=0.001]</c>; τ &gt; 0, batch-ratio &gt; 0, 0 ≤ margin &lt; 1.
/// </summary>
/// <remarks>
/// γ is found by doubling then bisection (m moves with b, so δ_b − τδ_ref is not monotone in general and the result is
/// the edge of the first passing interval). <c>margin</c> aims at τ·(1 − margin) so that the row still passes a filter
/// whose float round-off differs from the attacker's. When even γ = 0 fails it sends μ. The median includes all f
/// copies, as the server sees them. Omniscient; needs at least one honest row; g₀ must have length d.
/// Cost: one coordinate-wise median of h + f + 1 rows, O((h+f)·d), per bisection step (about 40–70 steps).
/// Not thread-safe.
/// </remarks>
public sealed class AdaptiveDstar : IAttack, IScaleCondition
{
    private const string Label = "adaptive-dstar";
    private readonly PerturbedMean _geometry = new();
    private GradientBatch? _batch;
    private float[]? _median;
    private float[]? _candidate;
    private double[] _deviations = [];
    private int _honestCount;
    private int _copies;
    private float[]? _validation;

    /// <summary>Creates the attack.</summary>
    /// <exception cref="ArgumentException">τ or batch-ratio is not finite and positive, or margin is outside [0, 1).</exception>
    public AdaptiveDstar(
        double tau = 2,
        PerturbationDirection direction = PerturbationDirection.StandardDeviation,
        bool useValidationReference = true,
        double batchRatio = 1,
        double margin = 0.001)
    {
        Tau = ParameterChecks.Positive(Label, "tau", tau);
        Direction = direction;
        UseValidationReference = useValidationReference;
        BatchRatio = ParameterChecks.Positive(Label, "batch-ratio", batchRatio);
        Margin = ParameterChecks.InRange(Label, "margin", margin, 0, 0.999999);
    }

    /// <summary>τ, the filter's threshold the attack assumes.</summary>
    public double Tau { get; }

    /// <summary>The direction p.</summary>
    public PerturbationDirection Direction { get; }

    /// <summary>True for δ_ref from g₀ (when the context has g₀), false for the median of the workers' δ.</summary>
    public bool UseValidationReference { get; }

    /// <summary>b_v / b: the validation batch over the worker batch (δ_ref = δ₀·√batch-ratio).</summary>
    public double BatchRatio { get; }

    /// <summary>Relative safety margin below τ.</summary>
    public double Margin { get; }

    /// <summary>γ chosen in the last <see cref="Craft"/> (NaN before the first).</summary>
    public double LastScale { get; private set; } = double.NaN;

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
        var validation = UseValidationReference ? context.AggregationContext?.ValidationGradient : null;
        if (validation is not null && validation.Length != d)
        {
            throw new AttackException($"{Label}: the validation gradient g₀ has {validation.Length} values, expected d = {d}");
        }

        _validation = validation;
        _honestCount = honest.Count;
        _copies = byzantine.Count;
        int rows = _honestCount + _copies + (validation is null ? 0 : 1);
        if (_batch is null || _batch.Capacity < rows || _batch.Dimension != d)
        {
            _batch = new GradientBatch(rows, d);
        }

        _batch.Count = rows;
        honest.AsSpan().CopyTo(_batch.Buffer);
        validation?.CopyTo(_batch.Row(rows - 1));
        if (_deviations.Length < _honestCount + _copies)
        {
            _deviations = new double[_honestCount + _copies];
        }

        _median = AttackChecks.Sized(ref _median, d);
        var candidate = AttackChecks.Sized(ref _candidate, d);
        _geometry.Compute(honest, Direction);
        LastScale = _geometry.DirectionNormSquared > 0 ? Bisection.Largest(this, tolerance: 1e-9) : 0;
        _geometry.Write(LastScale, candidate);
        AttackChecks.FillRows(byzantine, candidate);
    }

    bool IScaleCondition.Holds(double scale)
    {
        var batch = _batch!;
        var candidate = _candidate!;
        var median = _median!;
        _geometry.Write(scale, candidate);
        for (int i = 0; i < _copies; i++)
        {
            candidate.CopyTo(batch.Row(_honestCount + i));
        }

        CoordinateSelection.Median(batch, median);
        double deviation = TensorPrimitives.Distance<float>(candidate, median);
        return deviation <= Tau * (1 - Margin) * Reference(batch, median);
    }

    private double Reference(GradientBatch batch, float[] median)
    {
        if (_validation is not null)
        {
            return TensorPrimitives.Distance<float>(_validation, median) * Math.Sqrt(BatchRatio);
        }

        int workers = _honestCount + _copies;
        var deviations = _deviations.AsSpan(0, workers);
        for (int i = 0; i < workers; i++)
        {
            deviations[i] = TensorPrimitives.Distance<float>(batch.Row(i), median);
        }

        deviations.Sort();
        return workers % 2 == 1 ? deviations[workers / 2] : 0.5 * (deviations[workers / 2 - 1] + deviations[workers / 2]);
    }
}
