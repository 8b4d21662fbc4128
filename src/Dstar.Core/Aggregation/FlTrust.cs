using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// FLTrust (Cao, Fang, Liu, Gong, "FLTrust: Byzantine-robust Federated Learning via Trust Bootstrapping", NDSS 2021,
/// Eq. 4–6) with the server's validation gradient g₀ as the root of trust: trust score wᵢ = ReLU(cos(xᵢ, g₀)), each row
/// rescaled to ‖g₀‖, output = Σᵢ wᵢ·(‖g₀‖/‖xᵢ‖)·xᵢ / Σᵢ wᵢ.
/// </summary>
/// <remarks>
/// <para>
/// Requirements: n ≥ 1 and <see cref="AggregationContext.ValidationGradient"/> of length d; f is not used (the
/// validation gradient, not a count, decides). Without g₀ the rule throws <see cref="AggregationException"/>.
/// </para>
/// <para>
/// Rows with ‖xᵢ‖ = 0 get weight 0 (their direction is undefined). When every weight is 0 (every row orthogonal to or
/// against g₀, or g₀ = 0) the output is the zero vector and the report says so: Kept is empty and every weight is 0.
/// Non-finite rows are dropped and reported; a non-finite g₀ is refused.
/// </para>
/// <para>Report: Kept = rows with a positive trust score, Weights = normalized trust scores wᵢ/Σw, Scores = the cosines.</para>
/// <para>Cost: O(n·d): a dot product and a norm per row, then one weighted sum.</para>
/// </remarks>
public sealed class FlTrust : IAggregator
{
    private int[] _rows = Array.Empty<int>();
    private double[] _coefficients = Array.Empty<double>();

    /// <inheritdoc />
    public string Name => "fltrust";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        return RuleRequirements.AtLeast(Name, n, 1)
            ?? (hasValidationGradient ? null : RuleRequirements.Missing(Name, "the server's validation gradient g₀"));
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        RuleRequirements.Output(Name, batch, output);
        ArgumentNullException.ThrowIfNull(context);
        int n = batch.Count;
        var g0 = context.ValidationGradient;
        RuleRequirements.Ensure(CheckRequirements(n, context.ByzantineCount, g0 is not null));
        if (g0!.Length != batch.Dimension)
        {
            throw new AggregationException($"fltrust: validation gradient has {g0.Length} values, expected d = {batch.Dimension}");
        }

        double referenceNorm = Math.Sqrt(SumOfSquares(g0));
        if (!double.IsFinite(referenceNorm) && !NonFinite.AllFinite(g0))
        {
            throw new AggregationException("fltrust: the validation gradient g₀ holds NaN or ±∞");
        }

        Scratch.AtLeast(ref _rows, n);
        Scratch.AtLeast(ref _coefficients, n);
        var cosines = new double[n];
        var weights = new double[n];
        var kept = new List<int>();
        var dropped = new List<int>();
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var row = batch.Row(i);
            double norm = Math.Sqrt(SumOfSquares(row));
            if (!double.IsFinite(norm) && !NonFinite.AllFinite(row))
            {
                dropped.Add(i);
                cosines[i] = double.NaN;
                continue;
            }

            double dot = Dot(row, g0);
            double cosine = norm > 0 && referenceNorm > 0 ? dot / (norm * referenceNorm) : 0;
            cosines[i] = cosine;
            if (cosine > 0 && double.IsFinite(norm))
            {
                weights[i] = cosine;
                total += cosine;
                _coefficients[kept.Count] = cosine * referenceNorm / norm;
                _rows[kept.Count] = i;
                kept.Add(i);
            }
        }

        if (kept.Count == 0 || !(total > 0))
        {
            output.Clear();
            Array.Clear(weights);
            return new AggregationReport(Name, Array.Empty<int>(), weights, cosines, dropped);
        }

        for (int k = 0; k < kept.Count; k++)
        {
            _coefficients[k] /= total;
        }

        for (int i = 0; i < n; i++)
        {
            weights[i] /= total;
        }

        WeightedRowSums.WeightedSum(batch, _rows.AsSpan(0, kept.Count), _coefficients.AsSpan(0, kept.Count), output);
        return new AggregationReport(Name, kept, weights, cosines, dropped);
    }

    // In double, because a float sum of squares overflows for |x| ≳ 1e19, which is finite input.
    private static double SumOfSquares(ReadOnlySpan<float> row)
    {
        float fast = TensorPrimitives.SumOfSquares(row);
        if (float.IsFinite(fast))
        {
            return fast;
        }

        double sum = 0;
        foreach (var v in row)
        {
            sum += (double)v * v;
        }

        return sum;
    }

    private static double Dot(ReadOnlySpan<float> row, ReadOnlySpan<float> g0)
    {
        float fast = TensorPrimitives.Dot(row, g0);
        if (float.IsFinite(fast))
        {
            return fast;
        }

        double sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            sum += (double)row[j] * g0[j];
        }

        return sum;
    }
}
