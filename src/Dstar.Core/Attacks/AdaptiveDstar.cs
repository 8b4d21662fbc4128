using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// The adaptive attack against the dSTAR filter (Yan et al., arXiv 2412.07151; our reading in docs/method.md): it
/// knows the filter and sends b = μ + γp with the largest γ for which b still passes, δ_b ≤ τ·δ_ref, where
/// m = coordinate-wise median(honest ∪ f copies of b ∪ {g₀}), δ_b = ‖b − m‖₂ and δ_ref = ‖g₀ − m‖₂·√batch-ratio.
/// Without g₀ (<see cref="AttackContext.AggregationContext"/> null or its ValidationGradient null), or with
/// <c>reference=median-deviation</c>, m leaves g₀ out and δ_ref is the median of the worker rows' δᵢ.
/// The Byzantine vector sits on the filter's edge, in the direction p = −σ, −μ/‖μ‖ or −sign(μ) (as Min-Max).
/// Spec: <c>adaptive-dstar [tau=2] [direction=std|unit|sign] [reference=validation|median-deviation]
/// [batch-ratio=1] [margin=0.001]</c>; τ &gt; 0, batch-ratio &gt; 0, 0 ≤ margin &lt; 1.
/// <para>
/// Defence-aware: when the server's rule (<see cref="AttackContext.Pipeline"/>) is a <see cref="Aggregation.DstarFilter"/>,
/// the attack reads every check it is configured with and ignores its own tau/reference/batch-ratio: the centre (with or
/// without g₀, or g₀ itself; median-of-means is modelled as the median), the reference (δ₀, or the q-quantile of the
/// worker deviations), the direction check (cos(b, g₀) ≥ c), the scale check in drop mode (‖b‖ ≤ ρ‖g₀‖√batch-ratio) and
/// the duplicate check: with duplicates=ε each Byzantine row adds its own random perturbation of norm η = 1.5·ε·‖b‖, so no
/// two rows are near-identical, and γ is chosen so that every test still passes with that η (‖b + η‖² ≈ ‖b‖² + η² in
/// high dimension). Passing every test every round keeps its reputation at the top, so no schedule is needed.
/// </para>
/// </summary>
/// <remarks>
/// γ is found by doubling then bisection to a relative 10⁻⁶ (m moves with b, so δ_b − τδ_ref is not monotone in
/// general and the result is the edge of the first passing interval). <c>margin</c> aims at τ·(1 − margin) so that the row still passes a filter
/// whose float round-off differs from the attacker's. When even γ = 0 fails it sends μ. The median includes all f
/// copies, as the server sees them. Omniscient; needs at least one honest row; g₀ must have length d.
/// Cost: one sort of each column of the h (+1) rows per round, O(d·h log h); then O(d) per bisection step with the
/// validation reference, O((h+f)·d) with the median-deviation one (about 20–40 steps). Not thread-safe.
/// </remarks>
public sealed class AdaptiveDstar : IAttack, IScaleCondition
{
    private const string Label = "adaptive-dstar";
    private readonly PerturbedMean _geometry = new();
    private GradientBatch? _honest;
    private float[]? _median;
    private float[]? _candidate;
    private float[]? _column;
    private float[]? _lowerFloor;
    private float[]? _lowerCeiling;
    private float[]? _upperFloor;
    private float[]? _upperCeiling;
    private double[] _deviations = [];
    private int _copies;
    private float[]? _validation;
    private bool _validationInCenter;
    private bool _validationIsCenter;
    private double _tau;
    private bool _quantileReference;
    private double _quantile = 0.5;
    private double _batchRatio;
    private double _cosine = double.NegativeInfinity;
    private double _scaleBound = double.PositiveInfinity;
    private double _duplicates;
    private double _validationNorm;
    private int[] _eligible = [];
    private int _eligibleCount;

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
        var g0 = context.AggregationContext?.ValidationGradient;
        if (g0 is not null && g0.Length != d)
        {
            throw new AttackException($"{Label}: the validation gradient g₀ has {g0.Length} values, expected d = {d}");
        }

        Configure(context.Pipeline?.Rule as Aggregation.DstarFilter, g0);
        var validation = _validation;
        Eligible(honest, g0);
        _honest = honest;
        _copies = byzantine.Count;
        if (_deviations.Length < honest.Count + _copies)
        {
            _deviations = new double[honest.Count + _copies];
        }

        _median = Scratch.Exactly(ref _median, d);
        var candidate = Scratch.Exactly(ref _candidate, d);
        _geometry.Compute(honest, Direction);
        PrepareMedian(honest, _validationInCenter ? validation : null);
        LastScale = _geometry.DirectionNormSquared > 0 ? Bisection.Largest(this, tolerance: 1e-6) : 0;
        _geometry.Write(LastScale, candidate);
        AttackChecks.FillRows(byzantine, candidate);
        if (_duplicates > 0)
        {
            // Each row its own perturbation of norm η, so that no two rows are near-identical to the filter.
            double eta = 1.5 * _duplicates * TensorPrimitives.Norm<float>(candidate);
            for (int r = 0; r < byzantine.Count; r++)
            {
                var row = byzantine.Row(r);
                var noise = _median!;
                Kernels.StandardNormal.Fill(context.Random, noise);

                float norm = TensorPrimitives.Norm<float>(noise);
                if (norm > 0)
                {
                    TensorPrimitives.MultiplyAdd(noise, (float)(eta / norm), row, row);
                }
            }
        }
    }

    // The honest rows the server's direction and scale checks let through: only they enter its centre and reference.
    private void Eligible(GradientBatch honest, float[]? g0)
    {
        if (_eligible.Length < honest.Count)
        {
            _eligible = new int[honest.Count];
        }

        _eligibleCount = 0;
        for (int i = 0; i < honest.Count; i++)
        {
            var row = honest.Row(i);
            double norm = TensorPrimitives.Norm<float>(row);
            bool passes = norm <= _scaleBound;
            if (passes && !double.IsNegativeInfinity(_cosine))
            {
                double dot = TensorPrimitives.Dot<float>(row, g0);
                passes = norm > 0 && _validationNorm > 0 && dot / (norm * _validationNorm) >= _cosine;
            }

            if (passes)
            {
                _eligible[_eligibleCount++] = i;
            }
        }

        if (_eligibleCount == 0)
        {
            // The server would fall back on g₀ or refuse; the attack then models all honest rows.
            for (int i = 0; i < honest.Count; i++)
            {
                _eligible[i] = i;
            }

            _eligibleCount = honest.Count;
        }
    }

    // What the attack assumes about the filter: the server's own configuration when it runs dSTAR, else the spec.
    private void Configure(Aggregation.DstarFilter? filter, float[]? g0)
    {
        if (filter is null)
        {
            _validation = UseValidationReference ? g0 : null;
            _validationInCenter = _validation is not null;
            _validationIsCenter = false;
            _tau = Tau;
            _quantileReference = false;
            _quantile = 0.5;
            _batchRatio = BatchRatio;
            _cosine = double.NegativeInfinity;
            _scaleBound = double.PositiveInfinity;
            _duplicates = 0;
            return;
        }

        _validation = g0;
        _tau = filter.Tau;
        _batchRatio = filter.BatchRatio;
        _validationIsCenter = filter.Center == Aggregation.DstarCenter.Validation && g0 is not null;
        _validationInCenter = filter.Center == Aggregation.DstarCenter.Median && g0 is not null;
        bool validationReference = filter.Reference == Aggregation.DstarReference.Validation && g0 is not null;
        _quantileReference = !validationReference;
        _quantile = filter.Reference == Aggregation.DstarReference.Quantile ? filter.Quantile : 0.5;
        _validationNorm = g0 is null ? 0 : TensorPrimitives.Norm<float>(g0);
        _cosine = g0 is null ? double.NegativeInfinity : filter.Direction;
        _scaleBound = g0 is not null && filter.ScaleMode == Aggregation.DstarScaleMode.Drop
            ? filter.Scale * _validationNorm * Math.Sqrt(filter.BatchRatio)
            : double.PositiveInfinity;
        _duplicates = filter.Duplicates;
    }

    // With S the h honest values of a column (and g₀'s) sorted as s₍₁₎ ≤ … ≤ s₍ₘ₎, the r-th smallest of S ∪ {f copies
    // of v} is clamp(v, s₍ᵣ₋f₎, s₍ᵣ₎) (s₍ₖ₎ = −∞ for k < 1, +∞ for k > m). So each column's median as a function of b's
    // value needs only those order statistics, found once per round: every γ the bisection tries then costs O(d)
    // instead of a fresh O((h+f)·d) selection.
    private void PrepareMedian(GradientBatch honest, float[]? validation)
    {
        int d = honest.Dimension, h = _eligibleCount;
        int m = h + (validation is null ? 0 : 1);
        int total = m + _copies;
        int upperRank = total / 2 + 1;                                    // 1-based; the median for odd totals
        int lowerRank = total % 2 == 1 ? upperRank : total / 2;          // the other middle value for even totals
        var lowerFloor = Scratch.Exactly(ref _lowerFloor, d);
        var lowerCeiling = Scratch.Exactly(ref _lowerCeiling, d);
        var upperFloor = Scratch.Exactly(ref _upperFloor, d);
        var upperCeiling = Scratch.Exactly(ref _upperCeiling, d);
        var column = Scratch.Exactly(ref _column, m);
        var data = honest.Buffer;
        for (int j = 0; j < d; j++)
        {
            for (int i = 0; i < h; i++)
            {
                column[i] = data[_eligible[i] * d + j];
            }

            if (validation is not null)
            {
                column[h] = validation[j];
            }

            column.AsSpan().Sort();
            lowerFloor[j] = OrderStatistic(column, lowerRank - _copies);
            lowerCeiling[j] = OrderStatistic(column, lowerRank);
            upperFloor[j] = OrderStatistic(column, upperRank - _copies);
            upperCeiling[j] = OrderStatistic(column, upperRank);
        }
    }

    private static float OrderStatistic(float[] sorted, int rank) =>
        rank < 1 ? float.NegativeInfinity : rank > sorted.Length ? float.PositiveInfinity : sorted[rank - 1];

    bool IScaleCondition.Holds(double scale)
    {
        var candidate = _candidate!;
        var median = _median!;
        _geometry.Write(scale, candidate);
        double deviation = 0, validationDeviation = 0, squaredNorm = 0, dot = 0;
        for (int j = 0; j < candidate.Length; j++)
        {
            float v = candidate[j];
            float middle;
            if (_validationIsCenter)
            {
                middle = _validation![j];
            }
            else
            {
                double lower = Math.Clamp(v, _lowerFloor![j], _lowerCeiling![j]);
                double upper = Math.Clamp(v, _upperFloor![j], _upperCeiling![j]);
                middle = (float)(0.5 * (lower + upper));
            }

            median[j] = middle;
            deviation += ((double)v - middle) * ((double)v - middle);
            squaredNorm += (double)v * v;
            if (_validation is not null)
            {
                validationDeviation += ((double)_validation[j] - middle) * ((double)_validation[j] - middle);
                dot += (double)v * _validation[j];
            }
        }

        // The per-row perturbation n (norm η) the duplicate check forces adds η² to every squared distance and norm, and
        // a random cross term 2n·v whose size is about 2η‖v‖/√d; the attack leaves 4 of those as slack.
        double eta = 1.5 * _duplicates * Math.Sqrt(squaredNorm);
        double spread = 4 / Math.Sqrt(candidate.Length);
        deviation = Math.Sqrt(deviation + (eta * eta) + (2 * spread * eta * Math.Sqrt(deviation)));
        double norm = Math.Sqrt((squaredNorm + (eta * eta)) + (2 * spread * eta * Math.Sqrt(squaredNorm)));
        dot -= spread * eta * _validationNorm;
        double safety = 1 - Margin;
        if (!double.IsNegativeInfinity(_cosine) && !(norm > 0 && _validationNorm > 0 && dot / (norm * _validationNorm) >= _cosine + (Margin * (1 - _cosine))))
        {
            return false;
        }

        if (norm > _scaleBound * safety)
        {
            return false;
        }

        double reference = !_quantileReference && _validation is not null
            ? Math.Sqrt(validationDeviation * _batchRatio)
            : MedianDeviation(deviation, median);
        return deviation <= _tau * safety * reference;
    }

    // δ_ref = median of the workers' δᵢ: the honest rows' and f copies of b's.
    private double MedianDeviation(double byzantineDeviation, float[] median)
    {
        var honest = _honest!;
        int h = _eligibleCount;
        int workers = h + _copies;
        var deviations = _deviations.AsSpan(0, workers);
        for (int i = 0; i < h; i++)
        {
            deviations[i] = TensorPrimitives.Distance<float>(honest.Row(_eligible[i]), median);
        }

        deviations[h..].Fill(byzantineDeviation);
        deviations.Sort();
        if (_quantile != 0.5)
        {
            double position = _quantile * (workers - 1);
            int low = (int)Math.Floor(position);
            int high = Math.Min(low + 1, workers - 1);
            return deviations[low] + ((position - low) * (deviations[high] - deviations[low]));
        }

        return workers % 2 == 1 ? deviations[workers / 2] : 0.5 * (deviations[workers / 2 - 1] + deviations[workers / 2]);
    }
}
