namespace Dstar.Core.Attacks;

/// <summary>A yes/no condition on a scale γ ≥ 0 (a Byzantine vector μ + γp passes a test, or not).</summary>
internal interface IScaleCondition
{
    bool Holds(double scale);
}

/// <summary>
/// The largest γ ≥ 0 for which a condition holds, by doubling then bisection (Shejwalkar &amp; Houmansadr 2021 find
/// their γ this way). Exact when the set where the condition holds is an interval [0, γ*]; otherwise it returns one
/// boundary of that set. Bounded: at most <see cref="MaxDoublings"/> + <see cref="MaxHalvings"/> + 1 evaluations.
/// </summary>
internal static class Bisection
{
    public const int MaxDoublings = 1100;
    public const int MaxHalvings = 200;

    /// <summary>
    /// Returns the largest scale found to hold, 0 when even γ = 0 fails, or the last finite doubling when the
    /// condition never fails (the caller guards that case). Relative precision <paramref name="tolerance"/>.
    /// </summary>
    public static double Largest(IScaleCondition condition, double tolerance = 1e-10)
    {
        if (!condition.Holds(0))
        {
            return 0;
        }

        double low = 0, high = 1;
        for (int i = 0; condition.Holds(high); i++)
        {
            low = high;
            high *= 2;
            if (i >= MaxDoublings || double.IsInfinity(high))
            {
                return low;
            }
        }

        for (int i = 0; i < MaxHalvings && high - low > tolerance * high; i++)
        {
            double middle = 0.5 * (low + high);
            if (condition.Holds(middle))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
