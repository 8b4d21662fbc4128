using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// The compiled kernel paths chosen by n and f (for example a trimmed mean that tracks its extremes instead of running a
/// rank network) against the naive references, at n around the group boundaries and with huge dropped values.
/// </summary>
[Collection(nameof(KernelSettingsCollection))]
public class SelectionKernelPathTests
{
    private static readonly int[] RowCounts = [3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65, 96, 97];

    /// <summary>Grid values with, per column, up to f rows replaced by ±1e30 (dropped by every rule, never summed).</summary>
    private static float[][] WithHugeOutliers(Random rng, int n, int d, int f)
    {
        var data = Columns.Grid(rng, n, d);
        for (int j = 0; j < d; j++)
        {
            int outliers = rng.Next(f + 1);
            for (int k = 0; k < outliers; k++)
            {
                data[rng.Next(n)][j] = rng.Next(2) == 0 ? 1e30f : -1e30f;
            }
        }

        return data;
    }

    [Fact]
    public void Outside_networks_place_the_ends_and_median_for_every_zero_one_input()
    {
        // 0-1 principle (Knuth, TAOCP 5.3.4), as for the rank networks; the wires in between then hold the rest.
        for (int n = 1; n <= 13; n++)
        {
            for (int low = 0; low <= (n + 1) / 2; low++)
            {
                int high = n - 1 - low;
                foreach (bool median in new[] { false, true })
                {
                    var network = ComparatorNetwork.Outside(n, low, Math.Max(high, low - 1), median);
                    for (int mask = 0; mask < 1 << n; mask++)
                    {
                        var v = Enumerable.Range(0, n).Select(i => (mask >> i) & 1).ToArray();
                        var expected = v.OrderBy(x => x).ToArray();
                        for (int c = 0; c < network.Count; c++)
                        {
                            int a = network.Pairs[2 * c], b = network.Pairs[2 * c + 1];
                            (v[a], v[b]) = (Math.Min(v[a], v[b]), Math.Max(v[a], v[b]));
                        }

                        for (int r = 0; r < n; r++)
                        {
                            bool placed = r < low || r > high || (median && (r == (n - 1) / 2 || r == n / 2));
                            Assert.True(!placed || expected[r] == v[r], $"n={n} outside {low}..{high} median={median} input {mask}: rank {r} wrong");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Meamed_matches_the_reference_for_every_keep()
    {
        var rng = new Random(21);
        foreach (int n in RowCounts)
        {
            foreach (int keep in new[] { 1, n / 2, n / 2 + 1, n - 3, n - 1, n }.Where(k => k >= 1 && k <= n).Distinct())
            {
                int d = 16 * rng.Next(1, 4) + rng.Next(16);
                var data = WithHugeOutliers(rng, n, d, Math.Min(n - keep, (n - 1) / 2));
                var output = new float[d];
                Assert.True(CoordinateSelection.MeanClosestToMedian(GradientBatch.FromRows(data), RowPointers.All(n), keep, output));
                for (int j = 0; j < d; j++)
                {
                    double expected = Columns.MeamedOf(Columns.Column(data, j), keep);
                    Assert.True(Columns.Close(output[j], expected), $"n={n} keep={keep} column {j}: {output[j]} vs {expected}");
                }
            }
        }
    }

    [Theory]
    [InlineData(24)]
    [InlineData(3)]
    public void Trimmed_mean_matches_the_reference_on_every_path(int extremesMinRows)
    {
        using (KernelSettings.Override(extremesMinRows: extremesMinRows))
        {
            var rng = new Random(extremesMinRows);
            foreach (int n in RowCounts)
            {
                for (int trim = 0; 2 * trim < n && trim <= UnrolledNetworks.MaxExtremeTrim + 1; trim++)
                {
                    int d = 16 * rng.Next(1, 5) + rng.Next(16);
                    var data = WithHugeOutliers(rng, n, d, trim);
                    var output = new float[d];
                    Assert.True(CoordinateSelection.TrimmedMean(GradientBatch.FromRows(data), RowPointers.All(n), trim, output));
                    for (int j = 0; j < d; j++)
                    {
                        double expected = Columns.TrimmedMeanOf(Columns.Column(data, j), trim);
                        Assert.True(Columns.Close(output[j], expected), $"n={n} trim={trim} column {j}: {output[j]} vs {expected}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Trimmed_mean_by_extremes_keeps_tied_values_by_rank()
    {
        // Many copies of the kept extremes: the clamp identity must count ranks, not distinct values.
        using (KernelSettings.Override(extremesMinRows: 3))
        {
            var rng = new Random(11);
            foreach (int n in new[] { 9, 33, 64 })
            {
                var data = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, 40).Select(_ => (float)rng.Next(-2, 3)).ToArray()).ToArray();
                var output = new float[40];
                Assert.True(CoordinateSelection.TrimmedMean(GradientBatch.FromRows(data), RowPointers.All(n), 3, output));
                Assert.True(Columns.AllClose(output, j => Columns.TrimmedMeanOf(Columns.Column(data, j), 3)));
            }
        }
    }

    [Fact]
    public void Results_do_not_depend_on_where_the_rows_sit_in_memory()
    {
        // With d = 1003 each row starts at a different offset within a cache line, so dropping a leading row moves
        // the alignment head (and with it which columns go through the padded tile): the values must not change.
        var rng = new Random(8);
        int n = 40, d = 1003;
        var data = Columns.Gaussian(rng, n + 1, new float[d], 1);
        var shifted = GradientBatch.FromRows(data);
        var plain = GradientBatch.FromRows(data.Skip(1).ToArray());
        var inShifted = Enumerable.Range(1, n).ToArray();
        var inPlain = RowPointers.All(n);
        var a = new float[d];
        var b = new float[d];
        CoordinateSelection.TrimmedMean(shifted, inShifted, 3, a);
        CoordinateSelection.TrimmedMean(plain, inPlain, 3, b);
        Assert.Equal(b, a);
        CoordinateSelection.MeanClosestToMedian(shifted, inShifted, n - 3, a);
        CoordinateSelection.MeanClosestToMedian(plain, inPlain, n - 3, b);
        Assert.Equal(b, a);
        CoordinateSelection.Median(shifted, inShifted, a);
        CoordinateSelection.Median(plain, inPlain, b);
        Assert.Equal(b, a);
        RowMeans.Mean(shifted, inShifted, default, a);
        RowMeans.Mean(plain, inPlain, default, b);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Steady_state_selection_calls_allocate_nothing()
    {
        var data = Columns.Grid(new Random(9), 64, 1003);
        var batch = GradientBatch.FromRows(data);
        var rows = RowPointers.All(64);
        var output = new float[1003];
        void Run()
        {
            CoordinateSelection.TrimmedMean(batch, rows, 3, output);
            CoordinateSelection.MeanClosestToMedian(batch, rows, 61, output);
            CoordinateSelection.Median(batch, rows, output);
        }

        Run();
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Trimmed_mean_by_extremes_reports_non_finite_input()
    {
        var data = Columns.Grid(new Random(3), 40, 50);
        data[17][33] = float.NaN;
        Assert.False(CoordinateSelection.TrimmedMean(GradientBatch.FromRows(data), RowPointers.All(40), 3, new float[50]));
    }
}
