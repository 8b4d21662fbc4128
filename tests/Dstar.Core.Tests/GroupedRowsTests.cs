using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests;

/// <summary>
/// Past <see cref="StreamGroups.Rows"/> rows and one tile of columns, row means are summed group by group through a
/// running sum (see RowCombinations). These batches are wide enough to take that path.
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
        Assert.True(RowCombinations.Mean(batch, Enumerable.Range(0, n).ToArray(), default, slice, threads));
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
        Assert.False(RowCombinations.Mean(batch, Enumerable.Range(0, 40).ToArray(), default, new float[Wide]));
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
}
