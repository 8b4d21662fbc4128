using System.Runtime.InteropServices;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>Where dSTAR takes the centre m that deviations are measured from.</summary>
public enum DstarCenter
{
    /// <summary>m = coordinate-wise median of the worker rows and g₀ (the default; needs g₀).</summary>
    Median,

    /// <summary>m = coordinate-wise median of the means of random buckets of worker rows (g₀ not among them).</summary>
    MedianOfMeans,

    /// <summary>m = coordinate-wise median of the worker rows only.</summary>
    ExcludeValidation,
}

/// <summary>What dSTAR compares each deviation with.</summary>
public enum DstarReference
{
    /// <summary>δ_ref = δ₀·√batch-ratio, the validation gradient's own deviation (the default; needs g₀).</summary>
    Validation,

    /// <summary>δ_ref = the median of the worker deviations δ₁…δₙ.</summary>
    MedianDeviation,
}

/// <summary>
/// dSTAR's filter (Yan, Chaudhari, Kleinrock, "dSTAR: Straggler Tolerant and Byzantine Resilient Distributed SGD",
/// arXiv 2412.07151), steps 4–7 of one round as read in docs/method.md: centre m (coordinate-wise median of
/// {g₁…gₙ} ∪ {g₀} by default), deviations δᵢ = ‖gᵢ − m‖₂ and δ₀ = ‖g₀ − m‖₂, kept set
/// S = { i : δᵢ ≤ τ·δ_ref } with δ_ref = δ₀·√batch-ratio, output G = mean of {gᵢ : i ∈ S} (plus g₀ as one more vote
/// when include-validation), and G = g₀ when S is empty, so the server never steps on unfiltered input.
/// </summary>
/// <remarks>
/// <para>
/// Requirements: n ≥ 1, and g₀ (<see cref="AggregationContext.ValidationGradient"/>, length d, finite) whenever
/// center=median, reference=validation or include-validation is chosen; f is not used. When S is empty and there is
/// no g₀, the rule fails with <see cref="AggregationException"/>.
/// </para>
/// <para>
/// Cost: two passes over the rows. The first computes, per 16 coordinates, the median and every row's partial sum of
/// squared deviations in one go; the second averages the kept rows (never "sum all, subtract the dropped", which
/// cancels catastrophically next to huge Byzantine rows). O(n·d) reads, no pairwise distances.
/// </para>
/// <para>
/// Report: Kept = S; Scores[i] = δᵢ/δ_ref (0 when both are 0, +∞ when only δ_ref is, NaN for non-finite rows);
/// Weights[i] = 1/(|S| + [include-validation]) on S, else 0. Rows holding NaN/±∞ are dropped before the centre is
/// taken and reported in NonFinite; a non-finite g₀ is refused. Rows of huge finite values get their exact (double)
/// deviation and are filtered like any other.
/// </para>
/// </remarks>
public sealed class DstarFilter : IAggregator
{
    /// <summary>Creates the filter with the options of docs/method.md (defaults: tau=2, center=median, reference=validation).</summary>
    /// <exception cref="ArgumentOutOfRangeException">tau or batchRatio not positive and finite, or bucketSize &lt; 1.</exception>
    public DstarFilter(
        double tau = 2,
        DstarCenter center = DstarCenter.Median,
        DstarReference reference = DstarReference.Validation,
        bool includeValidation = false,
        double batchRatio = 1,
        int bucketSize = 2)
    {
        if (!(tau > 0) || !double.IsFinite(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), $"dstar: tau must be a positive number, got {tau}");
        }

        if (!(batchRatio > 0) || !double.IsFinite(batchRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(batchRatio), $"dstar: batch-ratio must be a positive number, got {batchRatio}");
        }

        if (bucketSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bucketSize), $"dstar: bucket must be ≥ 1, got {bucketSize}");
        }

        Tau = tau;
        Center = center;
        Reference = reference;
        IncludeValidation = includeValidation;
        BatchRatio = batchRatio;
        BucketSize = bucketSize;
    }

    /// <summary>τ: a row is kept when δᵢ ≤ τ·δ_ref.</summary>
    public double Tau { get; }

    /// <summary>Where the centre m comes from.</summary>
    public DstarCenter Center { get; }

    /// <summary>What δ_ref is.</summary>
    public DstarReference Reference { get; }

    /// <summary>When true, g₀ joins the mean of the kept rows as one more vote.</summary>
    public bool IncludeValidation { get; }

    /// <summary>b_v / b: scales δ₀ by √batch-ratio when the validation batch differs from the workers'.</summary>
    public double BatchRatio { get; }

    /// <summary>Rows per bucket for center=median-of-means.</summary>
    public int BucketSize { get; }

    /// <inheritdoc />
    public string Name => "dstar";

    private bool NeedsValidation => Center == DstarCenter.Median || Reference == DstarReference.Validation || IncludeValidation;

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        if (RuleRequirements.AtLeast(Name, n, 1) is { } why)
        {
            return why;
        }

        if (NeedsValidation && !hasValidationGradient)
        {
            var setting = Center == DstarCenter.Median ? "center=median" : Reference == DstarReference.Validation ? "reference=validation" : "include-validation=true";
            return RuleRequirements.Missing($"{Name} ({setting})", "the validation gradient g₀ (AggregationContext.ValidationGradient)");
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

        // g₀ enters the pass when it is part of the centre or the reference.
        bool validationInPass = validation is not null && (Center == DstarCenter.Median || Reference == DstarReference.Validation);
        var rows = RowPointers.All(n);
        int[] dropped = [];
        Span<double> squared = n + 1 <= RowPointers.StackLimit ? stackalloc double[n + 1] : new double[n + 1];
        // The centre itself is not written out: the pass keeps it in L1 for the deviations, and the output is written
        // once, by the mean of the kept rows. Only the rare path below (non-finite or huge rows) needs m in memory.
        if (!Deviations(batch, rows, validationInPass ? validation : null, context, squared, default))
        {
            var bad = new List<int>();
            for (int i = 0; i < rows.Length; i++)
            {
                if (!double.IsFinite(squared[i]) && !NonFinite.AllFinite(batch.Row(i)))
                {
                    bad.Add(i);
                }
            }

            if (validationInPass && !double.IsFinite(squared[rows.Length]) && !NonFinite.AllFinite(validation))
            {
                throw new AggregationException("dstar: the validation gradient g₀ holds non-finite values");
            }

            if (bad.Count > 0)
            {
                dropped = bad.ToArray();
                rows = RowPointers.Without(n, dropped);
            }

            // Again over the finite rows, now writing m into the output for the exact recomputation.
            Deviations(batch, rows, validationInPass ? validation : null, context, squared, output);

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

        double reference = ReferenceDeviation(squared, rows.Length, validationInPass);
        var scores = new double[n];
        Array.Fill(scores, double.NaN);
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

        var weights = new double[n];
        if (kept.Count == 0)
        {
            if (validation is null)
            {
                throw new AggregationException($"dstar: no row passed the filter (of {rows.Length} finite rows) and there is no validation gradient g₀ to fall back on");
            }

            validation.CopyTo(output);
        }
        else
        {
            var extra = IncludeValidation ? validation.AsSpan() : default;
            RowMeans.Mean(batch, CollectionsMarshal.AsSpan(kept), extra, output, context.MaxDegreeOfParallelism);
            foreach (var i in kept)
            {
                weights[i] = 1.0 / (kept.Count + (IncludeValidation ? 1 : 0));
            }
        }

        return new AggregationReport(Name, kept, weights, scores, dropped);
    }

    /// <summary>Pass 1: centre into <paramref name="center"/>, squared deviations of the rows (then g₀) into <paramref name="squared"/>.</summary>
    private bool Deviations(GradientBatch batch, int[] rows, float[]? validation, AggregationContext context, Span<double> squared, Span<float> center)
    {
        int count = rows.Length + (validation is null ? 0 : 1);
        if (count == 0)
        {
            // Every row was non-finite and g₀ is not in the pass: nothing to filter.
            return true;
        }

        int dop = context.MaxDegreeOfParallelism;
        var extra = validation.AsSpan();
        switch (Center)
        {
            case DstarCenter.Median:
                return RowDeviations.Squared(batch, rows, extra, CenterMode.Median, squared, center, dop, centerRows: count);
            case DstarCenter.ExcludeValidation when rows.Length > 0:
                return RowDeviations.Squared(batch, rows, extra, CenterMode.Median, squared, center, dop, centerRows: rows.Length);
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

    private double ReferenceDeviation(Span<double> squared, int rowCount, bool validationInPass)
    {
        if (Reference == DstarReference.Validation)
        {
            return Math.Sqrt(squared[rowCount]) * Math.Sqrt(BatchRatio);
        }

        if (rowCount == 0)
        {
            return 0;
        }

        Span<double> sorted = rowCount <= RowPointers.StackLimit ? stackalloc double[rowCount] : new double[rowCount];
        for (int i = 0; i < rowCount; i++)
        {
            sorted[i] = Math.Sqrt(squared[i]);
        }

        sorted.Sort();
        return rowCount % 2 == 1 ? sorted[rowCount / 2] : (sorted[rowCount / 2 - 1] + sorted[rowCount / 2]) / 2;
    }
}
