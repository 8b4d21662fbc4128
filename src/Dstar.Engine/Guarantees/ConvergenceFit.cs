namespace Dstar.Engine.Guarantees;

/// <summary>
/// What a curve of distances ‖x_t − θ*‖ (t = 0…T) shows about linear convergence: the rate per round fitted over its
/// linear phase, the noise floor it flattens at, and where it flattens or diverges.
/// </summary>
/// <param name="Rate">exp(slope) of the least-squares line through ln ‖x_t − θ*‖ over the linear phase, or null when there is none.</param>
/// <param name="PhaseStart">First round of the fitted phase (the first at or below half the initial distance).</param>
/// <param name="PhaseEnd">Last round of the fitted phase (before the curve comes within 3× of its floor).</param>
/// <param name="Floor">The median distance over the last quarter of the rounds (the noise floor; NaN when diverged).</param>
/// <param name="FlattensAt">The first round whose distance is within 2× of the floor, or null.</param>
/// <param name="DivergesAt">The first round whose distance exceeds 10× the initial one or is not finite, or null.</param>
/// <param name="TailRate">exp(slope) of ln ‖x_t − θ*‖ over the second half of the rounds, or null when diverged: about 1 at a
/// noise floor, and the slowest mode's rate when the run is still descending (a slowly curved problem).</param>
public sealed record ConvergenceFit(double? Rate, int PhaseStart, int PhaseEnd, double Floor, int? FlattensAt, int? DivergesAt, double? TailRate = null)
{
    /// <summary>Fits a curve; <paramref name="distances"/>[t] is ‖x_t − θ*‖, t = 0…T (a run stopped early gives a shorter curve).</summary>
    /// <param name="distances">At least 2 values.</param>
    /// <param name="stoppedAt">The round a run stopped at because it could not continue (overflow), or null.</param>
    /// <exception cref="ArgumentException">fewer than 2 distances.</exception>
    public static ConvergenceFit Fit(IReadOnlyList<double> distances, long? stoppedAt = null)
    {
        ArgumentNullException.ThrowIfNull(distances);
        if (distances.Count < 2)
        {
            throw new ArgumentException($"a convergence fit needs at least 2 distances, got {distances.Count}", nameof(distances));
        }

        double initial = distances[0];
        int? diverges = null;
        for (int t = 0; t < distances.Count; t++)
        {
            if (!double.IsFinite(distances[t]) || distances[t] > 10 * initial)
            {
                diverges = t;
                break;
            }
        }

        diverges ??= stoppedAt is { } s ? (int)s : null;
        int tail = Math.Max(1, distances.Count / 4);
        var last = distances.Skip(distances.Count - tail).Where(double.IsFinite).Order().ToArray();
        double floor = diverges is not null || last.Length == 0 ? double.NaN : last[last.Length / 2];
        int? flattens = null;
        if (!double.IsNaN(floor))
        {
            for (int t = 0; t < distances.Count; t++)
            {
                if (distances[t] <= 2 * floor)
                {
                    flattens = t;
                    break;
                }
            }
        }

        // The linear phase: past the initial transient (half the starting distance), before the floor's reach.
        int start = -1, end = -1;
        int limit = diverges ?? distances.Count;
        for (int t = 0; t < limit; t++)
        {
            if (start < 0 && distances[t] <= initial / 2)
            {
                start = t;
            }

            if (start >= 0 && !double.IsNaN(floor) && distances[t] <= 3 * floor)
            {
                break;
            }

            if (start >= 0)
            {
                end = t;
            }
        }

        double? rate = null;
        if (start >= 0 && end - start >= 2 && double.IsNaN(floor) is false)
        {
            rate = Math.Exp(Slope(distances, start, end));
        }

        double? tailRate = diverges is null && distances.Count >= 6 && distances.All(d => d > 0)
            ? Math.Exp(Slope(distances, distances.Count / 2, distances.Count - 1))
            : null;
        return new ConvergenceFit(rate, Math.Max(0, start), Math.Max(0, end), floor, flattens, diverges, tailRate);
    }

    private static double Slope(IReadOnlyList<double> distances, int start, int end)
    {
        int n = end - start + 1;
        double meanT = (start + end) / 2.0, meanY = 0;
        for (int t = start; t <= end; t++)
        {
            meanY += Math.Log(distances[t]);
        }

        meanY /= n;
        double num = 0, den = 0;
        for (int t = start; t <= end; t++)
        {
            num += (t - meanT) * (Math.Log(distances[t]) - meanY);
            den += (t - meanT) * (t - meanT);
        }

        return num / den;
    }
}
