using Dstar.Core.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

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
