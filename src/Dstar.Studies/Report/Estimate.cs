namespace Dstar.Studies.Report;

/// <summary>
/// Mean and standard deviation of one quantity over a cell's seeds. The standard deviation is the sample one
/// (divided by n − 1), 0 for one value; both are null when no seed has a value (a ratio with an empty denominator,
/// a target never reached, or no finished run).
/// </summary>
/// <param name="Mean">The mean, or null.</param>
/// <param name="Std">The sample standard deviation, or null.</param>
/// <param name="Count">How many seeds had a value.</param>
public readonly record struct Estimate(double? Mean, double? Std, int Count)
{
    /// <summary>The estimate of the non-null values of <paramref name="values"/>.</summary>
    public static Estimate Of(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToArray();
        if (present.Length == 0)
        {
            return new Estimate(null, null, 0);
        }

        double mean = 0;
        foreach (var v in present)
        {
            mean += v;
        }

        mean /= present.Length;
        double squares = 0;
        foreach (var v in present)
        {
            squares += (v - mean) * (v - mean);
        }

        return new Estimate(mean, present.Length > 1 ? Math.Sqrt(squares / (present.Length - 1)) : 0, present.Length);
    }
}
