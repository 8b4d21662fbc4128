using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// Past <see cref="StreamGroups.Rows"/> rows, means, steps and deviations go group by group, tile by tile (see
/// RowMeans and RowDeviations). These batches are wider than one tile, so the running sums cross tiles; the
/// narrow cases are covered by every rule's property tests.
/// </summary>
public class GroupedRowsTests
{
    private const int Wide = StreamGroups.TileColumns + 4_321;

    [Theory]
    [InlineData(17, 1)]
    [InlineData(33, 1)]
    [InlineData(40, 2)]
    public void Mean_of_many_wide_rows_matches_the_naive_mean(int n, int threads)
    {
        var rng = new Random(n);
        var rows = Columns.Grid(rng, n, Wide);
        var batch = GradientBatch.FromRows(rows);
        var output = new float[Wide + 16];
        var slice = output.AsSpan(3, Wide);
        Assert.True(RowMeans.Mean(batch, Enumerable.Range(0, n).ToArray(), default, slice, threads));
        for (int j = 0; j < Wide; j++)
        {
            double expected = 0;
            for (int i = 0; i < n; i++)
            {
                expected += rows[i][j];
            }

            Assert.True(Columns.Close(slice[j], expected / n), $"column {j}: {slice[j]} against {expected / n}");
        }

        Assert.Equal(0f, output[2]);
        Assert.Equal(0f, output[3 + Wide]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(39)]
    public void A_non_finite_value_in_any_group_is_reported(int badRow)
    {
        var rng = new Random(badRow);
        var rows = Columns.Grid(rng, 40, Wide);
        rows[badRow][Wide - 5] = float.NaN;
        var batch = GradientBatch.FromRows(rows);
        Assert.False(RowMeans.Mean(batch, Enumerable.Range(0, 40).ToArray(), default, new float[Wide]));
    }

    [Fact]
    public void Mean_rule_drops_a_non_finite_row_from_a_wide_batch_of_many_rows()
    {
        var rng = new Random(5);
        var rows = Columns.Grid(rng, 30, Wide);
        rows[7][100] = float.PositiveInfinity;
        var output = new float[Wide];
        var report = new Mean().Aggregate(GradientBatch.FromRows(rows), new AggregationContext(0), output);
        Assert.Equal([7], report.NonFiniteRows);
        for (int j = 0; j < Wide; j += 997)
        {
            double expected = Enumerable.Range(0, 30).Where(i => i != 7).Average(i => (double)rows[i][j]);
            Assert.True(Columns.Close(output[j], expected));
        }
    }

    [Theory]
    [InlineData(17, 1, false)]
    [InlineData(40, 2, true)]
    [InlineData(31, 1, true)]
    public void Clipping_step_over_many_wide_rows_matches_the_naive_step(int n, int threads, bool inPlace)
    {
        var rng = new Random(n + 100);
        var rows = Columns.Grid(rng, n, Wide);
        var batch = GradientBatch.FromRows(rows);
        var center = Columns.Grid(rng, 1, Wide)[0];
        var weights = Enumerable.Range(0, n).Select(i => (float)((i % 7 + 1) / 64.0)).ToArray();
        var output = inPlace ? (float[])center.Clone() : new float[Wide];
        RowMeans.Step(batch, Enumerable.Range(0, n).ToArray(), weights, inPlace ? output : center, output, threads);
        for (int j = 0; j < Wide; j++)
        {
            double expected = center[j];
            for (int i = 0; i < n; i++)
            {
                expected += weights[i] * ((double)rows[i][j] - center[j]);
            }

            Assert.True(Columns.Close(output[j], expected, 1e-4), $"column {j}: {output[j]} against {expected}");
        }
    }

    [Theory]
    [InlineData(17, true)]
    [InlineData(48, false)]
    public void Deviations_of_many_wide_rows_match_the_naive_sums(int n, bool given)
    {
        var rng = new Random(n + 200);
        var rows = Columns.Grid(rng, n, Wide);
        var batch = GradientBatch.FromRows(rows);
        var center = Columns.Grid(rng, 1, Wide)[0];
        var squared = new double[n];
        Assert.True(RowDeviations.Squared(batch, Enumerable.Range(0, n).ToArray(), default, given ? CenterMode.Given : CenterMode.Origin, squared, default, center: given ? center : default));
        for (int i = 0; i < n; i++)
        {
            double expected = 0;
            for (int j = 0; j < Wide; j++)
            {
                double diff = rows[i][j] - (given ? center[j] : 0.0);
                expected += diff * diff;
            }

            Assert.Equal(expected, squared[i], expected * 1e-5);
        }
    }

    [Fact]
    public void Centered_clipping_over_many_wide_rows_matches_its_formula()
    {
        var rng = new Random(77);
        int n = 24;
        var rows = Columns.Grid(rng, n, Wide);
        var previous = Columns.Grid(rng, 1, Wide)[0];
        var output = new float[Wide];
        var rule = new CenteredClipping(tau: 5000);
        rule.Aggregate(GradientBatch.FromRows(rows), new AggregationContext(0) { PreviousAggregate = previous }, output);
        var factors = rows.Select(r => Math.Min(1.0, 5000 / Math.Sqrt(r.Select((x, j) => ((double)x - previous[j]) * (x - previous[j])).Sum())) / n).ToArray();
        for (int j = 0; j < Wide; j += 101)
        {
            double expected = previous[j] + Enumerable.Range(0, n).Sum(i => factors[i] * (rows[i][j] - previous[j]));
            Assert.True(Columns.Close(output[j], expected, 1e-4), $"column {j}");
        }
    }

    [Fact]
    public void Steady_state_row_kernels_allocate_nothing()
    {
        var rng = new Random(3);
        var few = GradientBatch.FromRows(Columns.Grid(rng, 16, Wide));
        var many = GradientBatch.FromRows(Columns.Grid(rng, 40, Wide));
        var g0 = Columns.Grid(rng, 1, Wide)[0];
        var output = new float[Wide];
        var squared = new double[41];
        var weights = Enumerable.Repeat(1f / 40, 40).ToArray();
        var dots = new double[41];
        var factors = Enumerable.Repeat(1.0 / 80, 40).ToArray();
        var rowsFew = RowPointers.All(16);
        var rowsMany = RowPointers.All(40);
        var cases = new[] { (few, rowsFew), (many, rowsMany) };
        void Run()
        {
            foreach (var (batch, rows) in cases)
            {
                RowMeans.Mean(batch, rows, default, output);
                RowMeans.Step(batch, rows, weights, g0, output);
                RowDeviations.Squared(batch, rows, default, CenterMode.Given, squared, default, center: g0);
                RowDeviations.Squared(batch, rows, g0, CenterMode.Median, squared, default, centerRows: rows.Length + 1);
                RowDeviations.NormsAndDots(batch, rows, g0, squared, dots);
                WeightedRowSums.WeightedSum(batch, rows, factors.AsSpan(0, rows.Length), output, g0, 0.5);
            }
        }

        Run();
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
