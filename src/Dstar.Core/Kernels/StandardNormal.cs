namespace Dstar.Core.Kernels;

/// <summary>
/// The standard normal distribution N(0, 1): its quantile function Φ⁻¹ (ALIE's z) and seeded sampling (Gaussian
/// attack, log-normal delays).
/// </summary>
public static class StandardNormal
{
    // P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution function" (2003):
    // minimax rational approximations, relative error below 1.15e-9 over (0, 1). Central region |p − ½| ≤ ½ − pLow,
    // tails through q = √(−2 ln p).
    private static readonly double[] CentralNumerator =
        [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];

    private static readonly double[] CentralDenominator =
        [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];

    private static readonly double[] TailNumerator =
        [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];

    private static readonly double[] TailDenominator =
        [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

    private const double LowBreak = 0.02425;

    /// <summary>
    /// Φ⁻¹(p): the x with P(Z ≤ x) = p for Z ~ N(0, 1), by Acklam's rational approximation (relative error
    /// &lt; 1.15·10⁻⁹). Φ⁻¹(0) = −∞ and Φ⁻¹(1) = +∞.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is NaN or outside [0, 1].</exception>
    public static double Quantile(double p)
    {
        if (double.IsNaN(p) || p < 0 || p > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "the normal quantile needs a probability in [0, 1]");
        }

        if (p == 0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1)
        {
            return double.PositiveInfinity;
        }

        if (p < LowBreak)
        {
            return Tail(p);
        }

        if (p > 1 - LowBreak)
        {
            // Symmetry Φ⁻¹(p) = −Φ⁻¹(1 − p) keeps the tail formula on its accurate side.
            return -Tail(1 - p);
        }

        double q = p - 0.5;
        double r = q * q;
        return Polynomial(CentralNumerator, r) * q / (Polynomial(CentralDenominator, r) * r + 1);
    }

    /// <summary>One N(0, 1) draw from <paramref name="random"/> (Box–Muller; consumes two uniforms).</summary>
    public static double Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
        return radius * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>
    /// Fills <paramref name="values"/> with independent N(0, <paramref name="scale"/>²) draws (Box–Muller, both
    /// outputs of each pair used). Same random state → same values.
    /// </summary>
    public static void Fill(Random random, Span<float> values, double scale = 1)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < values.Length; i += 2)
        {
            // 1 − U lies in (0, 1], so the logarithm is finite.
            double radius = scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            double angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length)
            {
                values[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }
    }

    private static double Tail(double p)
    {
        double q = Math.Sqrt(-2 * Math.Log(p));
        return Polynomial(TailNumerator, q) / (Polynomial(TailDenominator, q) * q + 1);
    }

    // Horner's rule over coefficients given from the highest power down.
    private static double Polynomial(double[] coefficients, double x)
    {
        double value = coefficients[0];
        for (int i = 1; i < coefficients.Length; i++)
        {
            value = value * x + coefficients[i];
        }

        return value;
    }
}
