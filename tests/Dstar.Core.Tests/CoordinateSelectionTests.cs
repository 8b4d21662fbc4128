using Dstar.Core.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

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

public class CoordinateSelectionTests
{
    [Fact]
    public void Selection_networks_place_the_wanted_ranks_for_every_zero_one_input()
    {
        // 0-1 principle (Knuth, TAOCP 5.3.4): a comparator network that places a rank correctly for every 0/1 input
        // places it correctly for every input.
        for (int n = 1; n <= 13; n++)
        {
            foreach (var (low, high) in new[] { ((n - 1) / 2, n / 2), (0, n - 1), (n / 3, n - 1 - n / 3) })
            {
                var network = ComparatorNetwork.For(n, low, high);
                for (int mask = 0; mask < 1 << n; mask++)
                {
                    var v = Enumerable.Range(0, n).Select(i => (mask >> i) & 1).ToArray();
                    var expected = v.OrderBy(x => x).ToArray();
                    for (int c = 0; c < network.Count; c++)
                    {
                        int a = network.Pairs[2 * c], b = network.Pairs[2 * c + 1];
                        (v[a], v[b]) = (Math.Min(v[a], v[b]), Math.Max(v[a], v[b]));
                    }

                    for (int r = low; r <= high; r++)
                    {
                        Assert.True(expected[r] == v[r], $"n={n} ranks {low}..{high} input {mask}: rank {r} wrong");
                    }
                }
            }
        }
    }

    [Fact]
    public void Median_network_is_smaller_than_a_full_sort()
    {
        Assert.True(ComparatorNetwork.Median(16).Count < ComparatorNetwork.For(16, 0, 15).Count);
        Assert.True(ComparatorNetwork.Median(64).Count < ComparatorNetwork.For(64, 0, 63).Count);
    }

    [Property(MaxTest = 40)]
    public Property Median_of_a_row_subset_ignores_the_other_rows(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n + 3, d);
        var rows = Enumerable.Range(0, n + 3).OrderBy(_ => rng.Next()).Take(n).ToArray();
        var output = new float[d];
        CoordinateSelection.Median(GradientBatch.FromRows(data), rows, output);
        var subset = rows.Select(r => data[r]).ToArray();
        return Columns.AllClose(output, j => Columns.MedianOf(Columns.Column(subset, j))).ToProperty();
    }

    [Fact]
    public void Two_workers_give_the_same_result_as_one()
    {
        var rng = new Random(5);
        int n = 9, d = 40_000;
        var data = Columns.Grid(rng, n, d);
        var batch = GradientBatch.FromRows(data);
        var rows = RowPointers.All(n);
        var one = new float[d];
        var two = new float[d];
        CoordinateSelection.Median(batch, rows, one, 1);
        CoordinateSelection.Median(batch, rows, two, 2);
        Assert.Equal(one, two);
        Span<double> s1 = stackalloc double[n], s2 = stackalloc double[n];
        RowDeviations.Squared(batch, rows, default, CenterMode.Median, s1, one, 1, centerRows: n);
        RowDeviations.Squared(batch, rows, default, CenterMode.Median, s2, two, 2, centerRows: n);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(s1[i], s2[i], 1e-6 * (1 + s1[i]));
        }
    }

    [Fact]
    public void Selection_reports_non_finite_input()
    {
        var batch = GradientBatch.FromRows([[1f, 2f, 3f], [float.PositiveInfinity, 0f, 0f], [3f, 4f, 5f]]);
        Assert.False(CoordinateSelection.Median(batch, RowPointers.All(3), new float[3]));
        Assert.True(CoordinateSelection.Median(batch, [0, 2], new float[3]));
    }

    [Fact]
    public void Selection_refuses_bad_arguments()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [3f, 4f]]);
        Assert.Throws<ArgumentException>(() => CoordinateSelection.Median(batch, [0, 1], new float[3]));
        Assert.Throws<ArgumentException>(() => CoordinateSelection.Median(batch, [], new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoordinateSelection.Median(batch, [0, 2], new float[2]));
        Assert.Throws<ArgumentException>(() => CoordinateSelection.TrimmedMean(batch, [0, 1], 1, new float[2]));
        Assert.Throws<ArgumentException>(() => CoordinateSelection.MeanClosestToMedian(batch, [0, 1], 3, new float[2]));
    }
}
