using Dstar.Core.Kernels;

namespace Dstar.Engine.Guarantees;

/// <summary>How <see cref="ResilienceEstimator"/> forms its intervals.</summary>
public sealed record ResilienceOptions
{
    /// <summary>
    /// The most draws R at one point (<c>dstar resilience --rounds</c>, a study's <c>draws</c>): the estimate keeps R
    /// aggregates and an R × R Gram matrix (800 MB at this limit), and each bootstrap resample costs O(R²).
    /// </summary>
    public const int MaxDraws = 10_000;

    /// <summary>The most bootstrap resamples (<c>dstar resilience --bootstrap</c>).</summary>
    public const int MaxBootstrapSamples = 100_000;

    /// <summary>The two-sided level of every interval (default 0.95).</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Resamples of the bootstrap intervals (bias, variance ratio; default 1000).</summary>
    public int BootstrapSamples { get; init; } = 1000;

    /// <summary>Seeds the bootstrap.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>
/// Estimates the (α, f)-Byzantine resilience quantities (<see cref="ResilienceReport"/>) from R aggregates G₁…G_R drawn
/// independently at one point x, the honest reference (g, honest moments) and, optionally, the plain mean's
/// aggregates without attack at the same rounds (for the variance ratio).
/// </summary>
/// <remarks>
/// Means of per-draw scalars (⟨G_r, g⟩/‖g‖², ‖G_r‖^p) get Student-t intervals, mean ± t_{R−1}·s/√R. The bias and the variance
/// ratio are not means of scalars; they get percentile bootstrap intervals over the draws, computed from the R × R Gram
/// matrix of G_r − g so that a resample costs O(R²), not O(R·d). The bias uses U = Σ_{r≠s}⟨G_r − g, G_s − g⟩/(R(R−1)),
/// an unbiased estimate of ‖E[G] − g‖² (the plug-in ‖Ḡ − g‖² is biased up by tr Cov(G)/R), and reports √max(0, U).
/// Cost O(R²·d).
/// </remarks>
public static class ResilienceEstimator
{
    /// <summary>Estimates the report.</summary>
    /// <exception cref="ArgumentException">fewer than 2 draws, a draw of the wrong length or non-finite, or a baseline of another size.</exception>
    public static ResilienceReport Estimate(IReadOnlyList<float[]> aggregates, HonestReference honest, IReadOnlyList<float[]>? baseline = null, ResilienceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(aggregates);
        ArgumentNullException.ThrowIfNull(honest);
        options ??= new ResilienceOptions();
        int rounds = aggregates.Count;
        if (rounds < 2)
        {
            throw new ArgumentException($"a resilience estimate needs at least 2 draws, got {rounds}", nameof(aggregates));
        }

        if (!(options.Confidence > 0 && options.Confidence < 1))
        {
            throw new ArgumentException($"confidence must be in (0, 1), got {options.Confidence}", nameof(options));
        }

        if (baseline is not null && baseline.Count != rounds)
        {
            throw new ArgumentException($"the baseline has {baseline.Count} draws, the rule {rounds}; they must be paired", nameof(baseline));
        }

        var g = honest.Gradient;
        double g2 = honest.GradientNorm * honest.GradientNorm;
        // Student's t with R − 1 degrees of freedom: the normal z understates the interval of a mean of few draws.
        double t = StudentT.Quantile(0.5 + options.Confidence / 2, rounds - 1);

        var ratio = new double[rounds];
        var powers = new double[HonestReference.MomentOrders.Count][];
        for (int m = 0; m < powers.Length; m++)
        {
            powers[m] = new double[rounds];
        }

        for (int r = 0; r < rounds; r++)
        {
            var a = Check(aggregates[r], g.Length, r);
            double dot = 0, squared = 0;
            for (int j = 0; j < g.Length; j++)
            {
                dot += (double)a[j] * g[j];
                squared += (double)a[j] * a[j];
            }

            ratio[r] = dot / g2;
            for (int m = 0; m < powers.Length; m++)
            {
                powers[m][r] = Math.Pow(squared, HonestReference.MomentOrders[m] / 2.0);
            }
        }

        var moments = new MomentComparison[powers.Length];
        for (int m = 0; m < powers.Length; m++)
        {
            moments[m] = new MomentComparison(HonestReference.MomentOrders[m], MeanInterval(powers[m], t), honest.Moments[m]);
        }

        var gram = Gram(aggregates, g);
        double[,]? baselineGram = baseline is null ? null : Gram(baseline, g);
        double total = Sum(gram), trace = Trace(gram);
        double plugIn = Math.Sqrt(Math.Max(0, total)) / rounds;
        double variance = CovarianceTrace(gram, null);
        double debiased = Math.Sqrt(Math.Max(0, (total - trace) / (rounds * (double)(rounds - 1))));

        // Paired percentile bootstrap: one resample of draw indices serves the bias and both variances.
        var random = new Random(options.Seed);
        int samples = Math.Max(10, options.BootstrapSamples);
        var biasSamples = new double[samples];
        var ratioSamples = new double[samples];
        var counts = new double[rounds];
        for (int b = 0; b < samples; b++)
        {
            Array.Clear(counts);
            for (int i = 0; i < rounds; i++)
            {
                counts[random.Next(rounds)]++;
            }

            biasSamples[b] = DistinctPairBias(gram, counts);
            if (baselineGram is not null)
            {
                ratioSamples[b] = CovarianceTrace(gram, counts) / CovarianceTrace(baselineGram, counts);
            }
        }

        double alpha = 1 - options.Confidence;
        var debiasedInterval = new Interval(debiased / honest.GradientNorm, Quantile(biasSamples, alpha / 2) / honest.GradientNorm, Quantile(biasSamples, 1 - alpha / 2) / honest.GradientNorm);
        Interval? varianceRatio = baselineGram is null
            ? null
            : new Interval(variance / CovarianceTrace(baselineGram, null), Quantile(ratioSamples, alpha / 2), Quantile(ratioSamples, 1 - alpha / 2));

        return new ResilienceReport(
            rounds,
            options.Confidence,
            honest.GradientNorm,
            honest.NoiseRatio,
            MeanInterval(ratio, t),
            moments,
            plugIn / honest.GradientNorm,
            debiasedInterval,
            Math.Sqrt(variance / rounds) / honest.GradientNorm,
            variance / g2,
            varianceRatio);
    }

    private static float[] Check(float[] row, int d, int r)
    {
        if (row is null || row.Length != d)
        {
            throw new ArgumentException($"draw {r} has {row?.Length ?? 0} values, the gradient {d}");
        }

        foreach (var v in row)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException($"draw {r} holds a non-finite value");
            }
        }

        return row;
    }

    /// <summary>K_rs = ⟨G_r − g, G_s − g⟩ in double.</summary>
    private static double[,] Gram(IReadOnlyList<float[]> rows, float[] g)
    {
        int n = rows.Count, d = g.Length;
        var centred = new double[n][];
        for (int r = 0; r < n; r++)
        {
            var row = Check(rows[r], d, r);
            centred[r] = new double[d];
            for (int j = 0; j < d; j++)
            {
                centred[r][j] = (double)row[j] - g[j];
            }
        }

        var gram = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            for (int s = r; s < n; s++)
            {
                double dot = 0;
                var a = centred[r];
                var b = centred[s];
                for (int j = 0; j < d; j++)
                {
                    dot += a[j] * b[j];
                }

                gram[r, s] = dot;
                gram[s, r] = dot;
            }
        }

        return gram;
    }

    private static double Sum(double[,] gram)
    {
        double sum = 0;
        foreach (var v in gram)
        {
            sum += v;
        }

        return sum;
    }

    private static double Trace(double[,] gram)
    {
        double trace = 0;
        for (int r = 0; r < gram.GetLength(0); r++)
        {
            trace += gram[r, r];
        }

        return trace;
    }

    /// <summary>tr Cov of the draws weighted by <paramref name="counts"/> (null: each once): (Σ c_r K_rr − cᵀKc/R)/(R − 1).</summary>
    private static double CovarianceTrace(double[,] gram, double[]? counts)
    {
        int n = gram.GetLength(0);
        double diagonal = 0, quadratic = 0;
        for (int r = 0; r < n; r++)
        {
            double cr = counts?[r] ?? 1;
            if (cr == 0)
            {
                continue;
            }

            diagonal += cr * gram[r, r];
            for (int s = 0; s < n; s++)
            {
                quadratic += cr * (counts?[s] ?? 1) * gram[r, s];
            }
        }

        return (diagonal - quadratic / n) / (n - 1);
    }

    /// <summary>√max(0, U) of a resample, U over pairs of distinct original draws: (cᵀKc − Σ c_r² K_rr)/(R² − Σ c_r²).</summary>
    private static double DistinctPairBias(double[,] gram, double[] counts)
    {
        int n = gram.GetLength(0);
        double quadratic = 0, diagonal = 0, pairs = 0;
        for (int r = 0; r < n; r++)
        {
            double cr = counts[r];
            if (cr == 0)
            {
                continue;
            }

            diagonal += cr * cr * gram[r, r];
            pairs += cr * cr;
            for (int s = 0; s < n; s++)
            {
                quadratic += cr * counts[s] * gram[r, s];
            }
        }

        double weight = (double)n * n - pairs;
        return weight <= 0 ? 0 : Math.Sqrt(Math.Max(0, (quadratic - diagonal) / weight));
    }

    private static Interval MeanInterval(double[] values, double t)
    {
        double mean = values.Average();
        double squares = 0;
        foreach (var v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        double error = Math.Sqrt(squares / (values.Length - 1) / values.Length);
        return new Interval(mean, mean - t * error, mean + t * error);
    }

    private static double Quantile(double[] values, double p)
    {
        var sorted = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        double position = p * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(sorted.Length - 1, low + 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }
}
