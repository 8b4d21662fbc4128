using System.Runtime.InteropServices;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// dSTAR's filter (Yan, Chaudhari, Kleinrock, "dSTAR: Straggler Tolerant and Byzantine Resilient Distributed SGD",
/// arXiv 2412.07151), steps 4–7 of one round as read in docs/method.md: centre m (coordinate-wise median of
/// {g₁…gₙ} ∪ {g₀} by default), deviations δᵢ = ‖gᵢ − m‖₂ and δ₀ = ‖g₀ − m‖₂, kept set
/// S = { i : δᵢ ≤ τ·δ_ref } with δ_ref = δ₀·√batch-ratio, output G = mean of {gᵢ : i ∈ S} (plus g₀ as one more vote
/// when include-validation), and G = g₀ when S is empty, so the server never steps on unfiltered input.
/// </summary>
/// <remarks>
/// <para>
/// Our additions (all off by default, so the defaults are the paper's rule as we read it, bit for bit), applied in this
/// order before the centre is taken: reputation (rows of excluded workers are left out, <see cref="WorkerReputation"/>);
/// direction (drop gᵢ with cos(gᵢ, g₀) &lt; c); scale (drop, or clip in the mean, gᵢ with ‖gᵢ‖ &gt; ρ·‖g₀‖·√batch-ratio);
/// duplicates (near-identical rows, ‖gᵢ − gⱼ‖ ≤ ε·min(‖gᵢ‖, ‖gⱼ‖), carry one vote: only the first of a group enters the
/// centre, the filter and the mean). Then centre (also m = g₀), reference (also a q-quantile of the worker deviations),
/// and the mean of the kept set (plain, or centered clipping around g₀).
/// </para>
/// <para>
/// Requirements: n ≥ 1, and g₀ (<see cref="AggregationContext.ValidationGradient"/>, length d, finite) whenever
/// center=median|validation, reference=validation, include-validation, direction, scale or mean=clipped is chosen;
/// reputation needs <see cref="AggregationContext.Workers"/>. f is not used. When S is empty and there is no g₀, the
/// rule fails with <see cref="AggregationException"/>.
/// </para>
/// <para>
/// Cost: two passes over the rows with the paper's options. The first computes, per 16 coordinates, the centre and every
/// row's partial sum of squared deviations in one go; the second averages the kept rows (never "sum all, subtract the
/// dropped", which cancels catastrophically next to huge Byzantine rows). Direction, scale, duplicates and the clipped
/// mean add one pass: ‖gᵢ‖ and gᵢ·g₀ of every candidate row in one column pass with g₀'s block loaded once for all rows
/// (<see cref="RowDeviations.NormsAndDots"/>); the weighted or clipped mean is still one pass, g₀ entering it as
/// one more weighted row. Duplicate candidates are compared a chunk of columns at a time and part as soon as the partial
/// distance passes the bound (two honest rows after a small fraction of d; a near-duplicate pair costs one distance).
/// ‖g₀‖ costs one read of g₀. O(n·d) reads, no pairwise distances; reputation keeps O(N) state. Measured at n = 16,
/// d = 10⁶, one thread: `dstar` about 2 reads of the batch, `dstar-plus` about 3.3 (docs/benchmarks.md, "dSTAR+
/// options").
/// </para>
/// <para>
/// Report: Kept = S; Scores[i] = δᵢ/δ_ref (0 when both are 0, +∞ when only δ_ref is), NaN for rows that did not reach
/// the deviation test (non-finite, excluded, failed direction or scale, duplicate); Weights[i] = the row's weight in G.
/// Rows holding NaN/±∞ are dropped before the centre is taken and reported in NonFinite; a non-finite g₀ is refused.
/// Rows of huge finite values get their exact (double) deviation and are filtered like any other.
/// </para>
/// </remarks>
public sealed class DstarFilter : IAggregator
{
    /// <summary>Creates the filter (defaults: the paper's rule as read in docs/method.md).</summary>
    /// <exception cref="ArgumentOutOfRangeException">an option is outside its range (named in the message).</exception>
    public DstarFilter(
        double tau = 2,
        DstarCenter center = DstarCenter.Median,
        DstarReference reference = DstarReference.Validation,
        bool includeValidation = false,
        double batchRatio = 1,
        int bucketSize = 2,
        double quantile = 0.5,
        double direction = double.NegativeInfinity,
        double scale = double.PositiveInfinity,
        DstarScaleMode scaleMode = DstarScaleMode.Drop,
        double duplicates = 0,
        DstarMean mean = DstarMean.Plain,
        WorkerReputation? reputation = null)
    {
        Check(tau > 0 && double.IsFinite(tau), nameof(tau), $"tau must be a positive number, got {tau}");
        Check(batchRatio > 0 && double.IsFinite(batchRatio), nameof(batchRatio), $"batch-ratio must be a positive number, got {batchRatio}");
        Check(bucketSize >= 1, nameof(bucketSize), $"bucket must be ≥ 1, got {bucketSize}");
        Check(quantile >= 0 && quantile <= 1, nameof(quantile), $"quantile must be in [0, 1], got {quantile}");
        Check(double.IsNegativeInfinity(direction) || (direction >= -1 && direction <= 1), nameof(direction), $"direction must be a cosine in [-1, 1], got {direction}");
        Check(scale > 0, nameof(scale), $"scale must be a positive number, got {scale}");
        Check(duplicates >= 0 && duplicates < 1, nameof(duplicates), $"duplicates must be in [0, 1), got {duplicates}");
        if (center == DstarCenter.Validation && reference == DstarReference.Validation)
        {
            throw new ArgumentOutOfRangeException(nameof(reference), "dstar: center=validation makes δ₀ = 0; choose reference=median-deviation or reference=quantile");
        }

        Tau = tau;
        Center = center;
        Reference = reference;
        IncludeValidation = includeValidation;
        BatchRatio = batchRatio;
        BucketSize = bucketSize;
        Quantile = quantile;
        Direction = direction;
        Scale = scale;
        ScaleMode = scaleMode;
        Duplicates = duplicates;
        Mean = mean;
        Reputation = reputation;
    }

    /// <summary>τ: a row is kept when δᵢ ≤ τ·δ_ref.</summary>
    public double Tau { get; }

    /// <summary>Where the centre m comes from.</summary>
    public DstarCenter Center { get; }

    /// <summary>What δ_ref is.</summary>
    public DstarReference Reference { get; }

    /// <summary>When true, g₀ joins the mean of the kept rows as one more vote.</summary>
    public bool IncludeValidation { get; }

    /// <summary>b_v / b: scales δ₀ (and the scale bound) by √batch-ratio when the validation batch differs from the workers'.</summary>
    public double BatchRatio { get; }

    /// <summary>Rows per bucket for center=median-of-means.</summary>
    public int BucketSize { get; }

    /// <summary>q for reference=quantile.</summary>
    public double Quantile { get; }

    /// <summary>c: rows with cos(gᵢ, g₀) &lt; c are dropped (−∞: off).</summary>
    public double Direction { get; }

    /// <summary>ρ: the bound ‖gᵢ‖ ≤ ρ·‖g₀‖·√batch-ratio (+∞: off).</summary>
    public double Scale { get; }

    /// <summary>Drop or clip rows over the scale bound.</summary>
    public DstarScaleMode ScaleMode { get; }

    /// <summary>ε: rows within ε·min(‖gᵢ‖, ‖gⱼ‖) of each other carry one vote (0: off).</summary>
    public double Duplicates { get; }

    /// <summary>How the kept set is averaged.</summary>
    public DstarMean Mean { get; }

    /// <summary>The per-worker score keeper, or null when reputation is off.</summary>
    public WorkerReputation? Reputation { get; }

    /// <inheritdoc />
    public string Name => "dstar";

    private bool HasDirection => !double.IsNegativeInfinity(Direction);

    private bool HasScale => !double.IsPositiveInfinity(Scale);

    private bool Screens => HasDirection || HasScale || Duplicates > 0 || Mean == DstarMean.Clipped;

    private string? ValidationNeededBy =>
        Center == DstarCenter.Median ? "center=median"
        : Center == DstarCenter.Validation ? "center=validation"
        : Reference == DstarReference.Validation ? "reference=validation"
        : IncludeValidation ? "include-validation=true"
        : HasDirection ? "direction"
        : HasScale ? "scale"
        : Mean == DstarMean.Clipped ? "mean=clipped"
        : null;

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        if (RuleRequirements.AtLeast(Name, n, 1) is { } why)
        {
            return why;
        }

        if (ValidationNeededBy is { } setting && !hasValidationGradient)
        {
            return RuleRequirements.Missing($"{Name} ({setting})", "the server's validation gradient g₀");
        }

        return null;
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        RuleRequirements.Ensure(this, batch, context, output, context.ByzantineCount);
        int n = batch.Count, d = batch.Dimension;
        var validation = context.ValidationGradient;
        if (validation is not null && validation.Length != d)
        {
            throw new AggregationException($"dstar: validation gradient has {validation.Length} values, expected d = {d}");
        }

        var workers = context.Workers;
        if (Reputation is not null && (workers is null || workers.Count != n))
        {
            throw new AggregationException($"dstar: reputation needs the worker id of each of the {n} rows (AggregationContext.Workers), got {(workers is null ? "none" : $"{workers.Count}")}; a pre-aggregator that changes rows hides them");
        }

        var scores = new double[n];
        Array.Fill(scores, double.NaN);
        var weights = new double[n];
        var nonFinite = new List<int>();
        var candidates = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            if (Reputation is null || !Reputation.Excludes(workers![i]))
            {
                candidates.Add(i);
            }
        }

        // Our checks against g₀ (one pass for the norms and dot products), then one vote per group of near-duplicates.
        double[] norms = [], dots = [];
        double validationNorm = validation is null ? 0 : RowNorms.Of(batch, validation);
        if (validation is not null && !double.IsFinite(validationNorm))
        {
            throw new AggregationException("dstar: the validation gradient g₀ holds non-finite values");
        }

        double scaleBound = Scale * validationNorm * Math.Sqrt(BatchRatio);
        if (Screens)
        {
            norms = new double[n];
            dots = new double[n];
            DstarScreen.Measure(batch, CollectionsMarshal.AsSpan(candidates), validation, norms, dots, context.MaxDegreeOfParallelism);
            candidates.RemoveAll(i =>
            {
                if (double.IsNaN(norms[i]))
                {
                    nonFinite.Add(i);
                    return true;
                }

                double cosine = norms[i] > 0 && validationNorm > 0 ? dots[i] / (norms[i] * validationNorm) : 0;
                return (HasDirection && cosine < Direction) || (HasScale && ScaleMode == DstarScaleMode.Drop && norms[i] > scaleBound);
            });
            if (Duplicates > 0)
            {
                var representative = DstarScreen.Groups(batch, candidates, norms, dots, validationNorm, Duplicates);
                var leaders = new List<int>(candidates.Count);
                for (int a = 0; a < candidates.Count; a++)
                {
                    if (representative[a] == candidates[a])
                    {
                        leaders.Add(candidates[a]);
                    }
                }

                candidates = leaders;
            }
        }

        var kept = Filter(batch, candidates.ToArray(), validation, context, scores, nonFinite, output);
        if (kept.Count == 0)
        {
            if (validation is null)
            {
                throw new AggregationException($"dstar: no row passed the filter (of {n - nonFinite.Count} finite rows) and there is no validation gradient g₀ to fall back on");
            }

            validation.CopyTo(output);
        }
        else
        {
            Average(batch, kept, validation, validationNorm, scaleBound, norms, dots, weights, context, output);
        }

        if (Reputation is not null)
        {
            var keptSet = new HashSet<int>(kept);
            for (int i = 0; i < n; i++)
            {
                if (!Reputation.Excludes(workers![i]))
                {
                    Reputation.Record(workers[i], keptSet.Contains(i));
                }
            }

            Reputation.EndRound();
        }

        nonFinite.Sort();
        return new AggregationReport(Name, kept, weights, scores, nonFinite);
    }

    /// <summary>Centre, deviations and the τ test over the candidate rows; non-finite rows are dropped on the way.</summary>
    private List<int> Filter(GradientBatch batch, int[] rows, float[]? validation, AggregationContext context, double[] scores, List<int> nonFinite, Span<float> output)
    {
        // g₀ enters the pass when it is part of the centre or the reference.
        bool validationInPass = validation is not null && (Center == DstarCenter.Median || Reference == DstarReference.Validation);
        int n = batch.Count;
        Span<double> squared = n + 1 <= RowPointers.StackLimit ? stackalloc double[n + 1] : new double[n + 1];
        // The centre itself is not written out: the pass keeps it in L1 for the deviations, and the output is written
        // once, by the mean of the kept rows. Only the rare path below (non-finite or huge rows) needs m in memory.
        if (!Deviations(batch, rows, validationInPass ? validation : null, validation, context, squared, default))
        {
            var bad = new List<int>();
            for (int i = 0; i < rows.Length; i++)
            {
                if (!double.IsFinite(squared[i]) && !NonFinite.AllFinite(batch.Row(rows[i])))
                {
                    bad.Add(rows[i]);
                }
            }

            if (validationInPass && !double.IsFinite(squared[rows.Length]) && !NonFinite.AllFinite(validation))
            {
                throw new AggregationException("dstar: the validation gradient g₀ holds non-finite values");
            }

            if (bad.Count > 0)
            {
                nonFinite.AddRange(bad);
                rows = rows.Where(r => !bad.Contains(r)).ToArray();
            }

            // Again over the finite rows, now writing m into the output for the exact recomputation.
            Deviations(batch, rows, validationInPass ? validation : null, validation, context, squared, output);

            // Rows of huge finite values overflow the float partial sums: recompute those exactly around m (in output).
            int count = rows.Length + (validationInPass ? 1 : 0);
            for (int i = 0; i < count; i++)
            {
                if (!double.IsFinite(squared[i]))
                {
                    squared[i] = RowDeviations.Exact(i < rows.Length ? batch.Row(rows[i]) : validation, output);
                }
            }
        }

        double reference = ReferenceDeviation(squared, rows.Length);
        var kept = new List<int>(rows.Length);
        double threshold = Tau * reference;
        for (int i = 0; i < rows.Length; i++)
        {
            double deviation = Math.Sqrt(squared[i]);
            scores[rows[i]] = deviation == 0 ? 0 : deviation / reference;
            if (deviation <= threshold)
            {
                kept.Add(rows[i]);
            }
        }

        kept.Sort();
        return kept;
    }

    /// <summary>Pass 1: centre into <paramref name="center"/>, squared deviations of the rows (then g₀) into <paramref name="squared"/>.</summary>
    private bool Deviations(GradientBatch batch, int[] rows, float[]? inPass, float[]? validation, AggregationContext context, Span<double> squared, Span<float> center)
    {
        int count = rows.Length + (inPass is null ? 0 : 1);
        if (count == 0)
        {
            // Every row was dropped and g₀ is not in the pass: nothing to filter.
            return true;
        }

        int dop = context.MaxDegreeOfParallelism;
        var extra = inPass.AsSpan();
        switch (Center)
        {
            case DstarCenter.Median:
                return RowDeviations.Squared(batch, rows, extra, CenterMode.Median, squared, center, dop, centerRows: count);
            case DstarCenter.ExcludeValidation when rows.Length > 0:
                return RowDeviations.Squared(batch, rows, extra, CenterMode.Median, squared, center, dop, centerRows: rows.Length);
            case DstarCenter.Validation when rows.Length > 0:
                if (!center.IsEmpty)
                {
                    validation.AsSpan().CopyTo(center);
                }

                return RowDeviations.Squared(batch, rows, default, CenterMode.Given, squared, default, dop, center: validation);
            case DstarCenter.MedianOfMeans when rows.Length > 0:
                Span<int> order = rows.Length <= RowPointers.StackLimit ? stackalloc int[rows.Length] : new int[rows.Length];
                for (int i = 0; i < order.Length; i++)
                {
                    order[i] = i;
                }

                context.Random.Shuffle(order);
                return RowDeviations.Squared(batch, rows, extra, CenterMode.MedianOfBucketMeans, squared, center, dop, centerRows: rows.Length, order: order, bucketSize: BucketSize);
            default:
                // Only g₀ is left and it is not part of the centre: its deviation from nothing is 0.
                squared[0] = 0;
                return true;
        }
    }

    private double ReferenceDeviation(Span<double> squared, int rowCount)
    {
        if (Reference == DstarReference.Validation)
        {
            return Math.Sqrt(squared[rowCount]) * Math.Sqrt(BatchRatio);
        }

        if (rowCount == 0)
        {
            return 0;
        }

        Span<double> deviations = rowCount <= RowPointers.StackLimit ? stackalloc double[rowCount] : new double[rowCount];
        for (int i = 0; i < rowCount; i++)
        {
            deviations[i] = Math.Sqrt(squared[i]);
        }

        if (Reference == DstarReference.Quantile)
        {
            return DstarScreen.Quantile(deviations, Quantile);
        }

        deviations.Sort();
        return rowCount % 2 == 1 ? deviations[rowCount / 2] : (deviations[rowCount / 2 - 1] + deviations[rowCount / 2]) / 2;
    }

    /// <summary>Pass 2: G from the kept rows (plain mean, clipped to the scale bound, or centered clipping around g₀).</summary>
    private void Average(GradientBatch batch, List<int> kept, float[]? validation, double validationNorm, double scaleBound, double[] norms, double[] dots, double[] weights, AggregationContext context, Span<float> output)
    {
        bool clipsScale = HasScale && ScaleMode == DstarScaleMode.Clip;
        if (Mean == DstarMean.Plain && !clipsScale)
        {
            // The paper's mean, exactly as before our options.
            var extra = IncludeValidation ? validation.AsSpan() : default;
            RowMeans.Mean(batch, CollectionsMarshal.AsSpan(kept), extra, output, context.MaxDegreeOfParallelism);
            foreach (var i in kept)
            {
                weights[i] = 1.0 / (kept.Count + (IncludeValidation ? 1 : 0));
            }

            return;
        }

        // G = Σ aᵢ·gᵢ + b·g₀: each kept row scaled by sᵢ = min(1, bound/‖gᵢ‖) when clipping to the scale bound, then
        // either averaged, or moved towards g₀ by centered clipping with radius r = median ‖sᵢgᵢ − g₀‖.
        int votes = kept.Count + (IncludeValidation ? 1 : 0);
        var factors = new double[kept.Count];
        var distances = new double[kept.Count];
        for (int a = 0; a < kept.Count; a++)
        {
            int i = kept[a];
            double s = clipsScale && norms[i] > scaleBound ? scaleBound / norms[i] : 1;
            factors[a] = s;
            double squaredDistance = (s * s * norms[i] * norms[i]) - (2 * s * dots[i]) + (validationNorm * validationNorm);
            distances[a] = Math.Sqrt(Math.Max(0, squaredDistance));
        }

        double validationWeight;
        if (Mean == DstarMean.Clipped)
        {
            // G = g₀ + Σ (cᵢ/V)·(sᵢgᵢ − g₀), cᵢ = min(1, r/‖sᵢgᵢ − g₀‖); g₀'s own vote (include-validation) moves nothing
            // but counts in V. So row i weighs cᵢsᵢ/V and g₀ weighs what the rows leave, 1 − Σ cᵢ/V.
            double radius = DstarScreen.Quantile(distances, 0.5);
            validationWeight = 1;
            for (int a = 0; a < kept.Count; a++)
            {
                double clip = distances[a] > radius ? radius / distances[a] : 1;
                factors[a] *= clip / votes;
                validationWeight -= clip / votes;
            }
        }
        else
        {
            validationWeight = IncludeValidation ? 1.0 / votes : 0;
            for (int a = 0; a < kept.Count; a++)
            {
                factors[a] /= votes;
            }
        }

        // g₀ is one more weighted row of the same pass.
        WeightedRowSums.WeightedSum(batch, CollectionsMarshal.AsSpan(kept), factors, output, validation, validationWeight, context.MaxDegreeOfParallelism);

        for (int a = 0; a < kept.Count; a++)
        {
            weights[kept[a]] = factors[a];
        }
    }

    private static void Check(bool holds, string name, string message)
    {
        if (!holds)
        {
            throw new ArgumentOutOfRangeException(name, $"dstar: {message}");
        }
    }
}
