using Dstar.Core.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// <see cref="RowDeviations.NormsAndDots"/>, squared norms and dot products with one vector in one pass, against sums in
/// double: narrow random shapes (one group, and row groups past 16 rows), and batches wider than a tile on two threads.
/// </summary>
public class NormsAndDotsTests
{
    private const int Wide = StreamGroups.TileColumns + 4_321;

    private static (double Squared, double Dot) Naive(float[] row, float[] y)
    {
        double squared = 0, dot = 0;
        for (int j = 0; j < row.Length; j++)
        {
            squared += (double)row[j] * row[j];
            dot += (double)row[j] * y[j];
        }

        return (squared, dot);
    }

    private static bool Matches(float[][] data, int[] rows, float[] y, double[] squared, double[] dots, double tolerance)
    {
        for (int a = 0; a < rows.Length; a++)
        {
            var (s, p) = Naive(data[rows[a]], y);
            // The dot product may cancel to about 0, so its error is measured against ‖x‖·‖y‖.
            double scale = Math.Sqrt(s * Naive(y, y).Squared);
            if (Math.Abs(squared[a] - s) > tolerance * (1 + s) || Math.Abs(dots[a] - p) > tolerance * (1 + scale))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 100)]
    public Property Norms_and_dots_match_double_sums_for_any_subset_of_rows(int a, int b, int seed)
    {
        int n = Math.Abs(a % 40) + 1, d = Math.Abs(b % 300) + 1;
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        var y = Columns.Grid(rng, 1, d)[0];
        // A random subset of the rows in a random order: the outputs follow the list, not the batch.
        var rows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(1 + rng.Next(n)).ToArray();
        var squared = new double[rows.Length];
        var dots = new double[rows.Length];
        bool finite = RowDeviations.NormsAndDots(GradientBatch.FromRows(data), rows, y, squared, dots);
        return (finite && Matches(data, rows, y, squared, dots, 1e-6)).Label($"n = {n}, d = {d}, {rows.Length} rows");
    }

    [Theory]
    [InlineData(16, 40_000, 2)]
    [InlineData(17, Wide, 1)]
    [InlineData(40, Wide, 2)]
    public void Norms_and_dots_of_wide_batches_match_on_one_and_two_threads(int n, int d, int threads)
    {
        var rng = new Random(n + d);
        var data = Columns.Grid(rng, n, d);
        var y = Columns.Grid(rng, 1, d)[0];
        var rows = RowPointers.All(n);
        var squared = new double[n];
        var dots = new double[n];
        Assert.True(RowDeviations.NormsAndDots(GradientBatch.FromRows(data), rows, y, squared, dots, threads));
        Assert.True(Matches(data, rows, y, squared, dots, 1e-6));
    }

    [Theory]
    [InlineData(5, float.NaN)]
    [InlineData(20, float.PositiveInfinity)]
    [InlineData(9, 1e25f)]
    public void A_row_with_non_finite_or_overflowing_sums_is_reported_and_the_others_stay_exact(int n, float bad)
    {
        var rng = new Random(n);
        int d = 333;
        var data = Columns.Grid(rng, n, d);
        var y = Columns.Grid(rng, 1, d)[0];
        int badRow = rng.Next(n);
        data[badRow][rng.Next(d)] = bad;
        var rows = RowPointers.All(n);
        var squared = new double[n];
        var dots = new double[n];
        Assert.False(RowDeviations.NormsAndDots(GradientBatch.FromRows(data), rows, y, squared, dots));
        Assert.False(double.IsFinite(squared[badRow]));
        var others = rows.Where(i => i != badRow).ToArray();
        Assert.True(Matches(data, others, y, others.Select(i => squared[i]).ToArray(), others.Select(i => dots[i]).ToArray(), 1e-6));
    }
}
