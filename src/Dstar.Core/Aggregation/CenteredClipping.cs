using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Centered clipping (Karimireddy, He, Jaggi, "Learning from history for Byzantine robust optimization", ICML 2021,
/// Eq. 2): v ← v + (1/n) Σᵢ clip_τ(xᵢ − v) with clip_τ(z) = z·min(1, τ/‖z‖), repeated L times from the previous
/// round's aggregate (<see cref="AggregationContext.PreviousAggregate"/>, or 0 in the first round).
/// </summary>
/// <remarks>
/// Requirements: n ≥ 1, τ &gt; 0, L ≥ 1; f is not used. A previous aggregate must have length d and be finite.
/// Cost per iteration: two passes, O(n·d) each (the distances ‖xᵢ − v‖, then the clipped step).
/// Non-finite rows are dropped and reported; when none remains the rule fails with <see cref="AggregationException"/>.
/// Report: Kept = the finite rows; Weights[i] = min(1, τ/‖xᵢ − v‖)/n and Scores[i] = ‖xᵢ − v‖ of the last iteration.
/// </remarks>
public sealed class CenteredClipping : IAggregator
{
    /// <summary>Creates the rule with radius <paramref name="tau"/> (τ) and <paramref name="iterations"/> (L).</summary>
    /// <exception cref="ArgumentOutOfRangeException">tau not positive and finite, or iterations &lt; 1.</exception>
    public CenteredClipping(double tau = 10, int iterations = 1)
    {
        if (!(tau > 0) || !double.IsFinite(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), $"centered-clipping: tau must be a positive number, got {tau}");
        }

        if (iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), $"centered-clipping: iterations must be ≥ 1, got {iterations}");
        }

        Tau = tau;
        Iterations = iterations;
    }

    /// <summary>τ, the clipping radius.</summary>
    public double Tau { get; }

    /// <summary>L, the number of clipping iterations.</summary>
    public int Iterations { get; }

    /// <inheritdoc />
    public string Name => "centered-clipping";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient) =>
        RuleRequirements.AtLeast(Name, n, 1);

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        RuleRequirements.Ensure(this, batch, context, output, context.ByzantineCount);
        int n = batch.Count;
        var previous = context.PreviousAggregate;
        if (previous is null)
        {
            output.Clear();
        }
        else if (previous.Length != batch.Dimension)
        {
            throw new AggregationException($"centered-clipping: previous aggregate has {previous.Length} values, expected d = {batch.Dimension}");
        }

        // v: the previous aggregate for the first iteration (read where it is, not copied), then the output in place.
        ReadOnlySpan<float> v = previous ?? (ReadOnlySpan<float>)output;

        var rows = RowPointers.All(n);
        int[] dropped = [];
        Span<double> squared = n <= RowPointers.StackLimit ? stackalloc double[n] : new double[n];
        Span<float> steps = n <= RowPointers.StackLimit ? stackalloc float[n] : new float[n];
        int dop = context.MaxDegreeOfParallelism;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            if (!RowDeviations.Squared(batch, rows, default, CenterMode.Given, squared, default, dop, center: v))
            {
                if (iteration == 0 && previous is not null && !NonFinite.AllFinite(previous))
                {
                    throw new AggregationException("centered-clipping: the previous aggregate holds non-finite values");
                }

                var bad = new List<int>();
                for (int i = 0; i < rows.Length; i++)
                {
                    if (!double.IsFinite(squared[i]) && !NonFinite.AllFinite(batch.Row(rows[i])))
                    {
                        bad.Add(rows[i]);
                    }
                }

                if (bad.Count > 0)
                {
                    dropped = [.. dropped, .. bad];
                    Array.Sort(dropped);
                    rows = RowPointers.Without(n, dropped);
                    if (rows.Length == 0)
                    {
                        throw new AggregationException($"centered-clipping: all {n} rows hold non-finite values");
                    }

                    RowDeviations.Squared(batch, rows, default, CenterMode.Given, squared, default, dop, center: v);
                }

                for (int i = 0; i < rows.Length; i++)
                {
                    if (!double.IsFinite(squared[i]))
                    {
                        squared[i] = RowDeviations.Exact(batch.Row(rows[i]), v);
                    }
                }
            }

            for (int i = 0; i < rows.Length; i++)
            {
                double distance = Math.Sqrt(squared[i]);
                steps[i] = (float)((distance > Tau ? Tau / distance : 1.0) / rows.Length);
            }

            RowMeans.Step(batch, rows, steps[..rows.Length], v, output, dop);
            v = output;
        }

        var weights = new double[n];
        var scores = new double[n];
        Array.Fill(scores, double.NaN);
        for (int i = 0; i < rows.Length; i++)
        {
            weights[rows[i]] = steps[i];
            scores[rows[i]] = Math.Sqrt(squared[i]);
        }

        return new AggregationReport(Name, rows, weights, scores, dropped);
    }
}
