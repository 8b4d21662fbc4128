namespace Dstar.Core.Tests;

/// <summary>Random batches and obviously-correct per-coordinate references shared by the coordinate-rule tests.</summary>
internal static class Columns
{
    /// <summary>n rows of d values on a grid of 1/8 in [−100, 100]: sums of them are exact in float, so ties are real ties.</summary>
    public static float[][] Grid(Random rng, int n, int d) =>
        Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => rng.Next(-800, 801) / 8f).ToArray()).ToArray();

    /// <summary>n rows of d Gaussian values around <paramref name="center"/> with spread <paramref name="sigma"/>.</summary>
    public static float[][] Gaussian(Random rng, int n, float[] center, double sigma) =>
        Enumerable.Range(0, n).Select(_ => center.Select(c => (float)(c + sigma * Normal(rng))).ToArray()).ToArray();

    public static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static double[] Column(float[][] rows, int j) => rows.Select(r => (double)r[j]).ToArray();

    public static double MedianOf(double[] values)
    {
        var s = values.OrderBy(v => v).ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public static double TrimmedMeanOf(double[] values, int f)
    {
        var s = values.OrderBy(v => v).ToArray();
        return s.Skip(f).Take(s.Length - 2 * f).Average();
    }

    public static double MeamedOf(double[] values, int keep)
    {
        double m = MedianOf(values);
        return values.OrderBy(v => Math.Abs(v - m)).ThenBy(v => v).Take(keep).Average();
    }

    public static bool Close(float actual, double expected, double tolerance = 1e-5) =>
        Math.Abs(actual - expected) <= tolerance * (1 + Math.Abs(expected));

    public static bool AllClose(float[] actual, Func<int, double> expected, double tolerance = 1e-5) =>
        Enumerable.Range(0, actual.Length).All(j => Close(actual[j], expected(j), tolerance));

    /// <summary>Shapes for property tests: n in 1..70, d in 1..300 (most not a multiple of 16).</summary>
    public static (int N, int D) Shape(int a, int b) => (Math.Abs(a % 70) + 1, Math.Abs(b % 300) + 1);
}
