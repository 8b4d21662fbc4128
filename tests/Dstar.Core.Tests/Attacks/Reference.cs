using Dstar.Core.Attacks;

namespace Dstar.Core.Tests.Attacks;

/// <summary>Naive, obviously-correct statistics in double precision, and test data, for the attack tests.</summary>
internal static class Reference
{
    /// <summary>n rows of d values: a shared "true gradient" plus per-row noise of the given spread.</summary>
    public static float[][] Rows(int n, int d, int seed, double spread = 1, double offset = 3)
    {
        var rng = new Random(seed);
        var truth = Enumerable.Range(0, d).Select(_ => offset * (rng.NextDouble() * 2 - 1)).ToArray();
        return Enumerable.Range(0, n)
            .Select(_ => Enumerable.Range(0, d).Select(j => (float)(truth[j] + spread * (rng.NextDouble() * 2 - 1))).ToArray())
            .ToArray();
    }

    public static double[] Mean(float[][] rows) =>
        Enumerable.Range(0, rows[0].Length).Select(j => rows.Average(r => (double)r[j])).ToArray();

    /// <summary>Population standard deviation per column.</summary>
    public static double[] Deviation(float[][] rows)
    {
        var mean = Mean(rows);
        return Enumerable.Range(0, rows[0].Length)
            .Select(j => Math.Sqrt(rows.Sum(r => (r[j] - mean[j]) * (r[j] - mean[j])) / rows.Length))
            .ToArray();
    }

    public static double Distance(IReadOnlyList<float> a, IReadOnlyList<double> b)
    {
        double sum = 0;
        for (int j = 0; j < a.Count; j++)
        {
            sum += (a[j] - b[j]) * (a[j] - b[j]);
        }

        return Math.Sqrt(sum);
    }

    public static double Distance(IReadOnlyList<float> a, IReadOnlyList<float> b) =>
        Distance(a, b.Select(v => (double)v).ToArray());

    /// <summary>Per column, the median (mean of the two middle values for an even count).</summary>
    public static double[] Median(IReadOnlyList<float[]> rows)
    {
        var result = new double[rows[0].Length];
        for (int j = 0; j < result.Length; j++)
        {
            var column = rows.Select(r => (double)r[j]).OrderBy(v => v).ToArray();
            int n = column.Length;
            result[j] = n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
        }

        return result;
    }

    public static GradientBatch Batch(float[][] rows) => GradientBatch.FromRows(rows);

    public static GradientBatch Empty(int rows, int d) => new(rows, d);

    public static AttackContext Context(int n, int f, int seed = 1) => new(n, f, new Random(seed));

    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance = 1e-5)
    {
        Xunit.Assert.Equal(expected.Count, actual.Count);
        for (int j = 0; j < expected.Count; j++)
        {
            Xunit.Assert.True(Math.Abs(expected[j] - actual[j]) <= tolerance * (1 + Math.Abs(expected[j])),
                $"coordinate {j}: expected {expected[j]}, got {actual[j]}");
        }
    }
}
