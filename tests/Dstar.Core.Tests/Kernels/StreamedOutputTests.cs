using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// The compiled kernels write their outputs with non-temporal stores on aligned lines, joining neighbouring blocks when
/// the output sits at another offset within its cache lines than the rows. These tests place the output at every
/// offset (a slice of a larger array) and check every value against a naive reference, and that nothing outside the
/// output is touched.
/// </summary>
public class StreamedOutputTests
{
    public static TheoryData<int, int> Shapes() => new() { { 16, 16 }, { 16, 1000 }, { 17, 4099 }, { 5, 20_011 }, { 33, 700 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Row_mean_is_exact_and_stays_inside_the_output_at_every_offset(int n, int d)
    {
        var rng = new Random(n * 31 + d);
        var rows = Columns.Grid(rng, n, d);
        var batch = GradientBatch.FromRows(rows);
        for (int offset = 0; offset < 16; offset++)
        {
            var buffer = new float[d + 32];
            Array.Fill(buffer, -7.5f);
            var output = buffer.AsSpan(offset, d);
            Assert.True(RowMeans.Mean(batch, Enumerable.Range(0, n).ToArray(), default, output));
            for (int j = 0; j < d; j++)
            {
                Assert.True(Columns.Close(output[j], Columns.Column(rows, j).Average()), $"offset {offset}, column {j}: {output[j]}");
            }

            AssertUntouched(buffer, offset, d);
        }
    }

    [Fact]
    public void Two_workers_write_their_own_halves_of_the_output_at_every_offset()
    {
        const int n = 12, d = 40_003;
        var rng = new Random(12);
        var rows = Columns.Grid(rng, n, d);
        var batch = GradientBatch.FromRows(rows);
        var expected = Enumerable.Range(0, d).Select(j => Columns.Column(rows, j).Average()).ToArray();
        for (int offset = 0; offset < 16; offset += 5)
        {
            var buffer = new float[d + 32];
            Array.Fill(buffer, -7.5f);
            Assert.True(RowMeans.Mean(batch, Enumerable.Range(0, n).ToArray(), default, buffer.AsSpan(offset, d), degreeOfParallelism: 2));
            for (int j = 0; j < d; j++)
            {
                Assert.True(Columns.Close(buffer[offset + j], expected[j]), $"offset {offset}, column {j}");
            }

            AssertUntouched(buffer, offset, d);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Median_rule_is_exact_and_stays_inside_the_output_at_every_offset(int n, int d)
    {
        var rng = new Random(n * 17 + d);
        var rows = Columns.Grid(rng, n, d);
        var batch = GradientBatch.FromRows(rows);
        var rule = new Median();
        for (int offset = 0; offset < 16; offset += 3)
        {
            var buffer = new float[d + 32];
            Array.Fill(buffer, -7.5f);
            rule.Aggregate(batch, new AggregationContext(0), buffer.AsSpan(offset, d));
            for (int j = 0; j < d; j++)
            {
                Assert.True(Columns.Close(buffer[offset + j], Columns.MedianOf(Columns.Column(rows, j))), $"offset {offset}, column {j}");
            }

            AssertUntouched(buffer, offset, d);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Clipping_step_in_place_is_exact_at_every_offset(int n, int d)
    {
        var rng = new Random(n * 7 + d);
        var rows = Columns.Grid(rng, n, d);
        var batch = GradientBatch.FromRows(rows);
        var weights = Enumerable.Range(0, n).Select(i => (float)((i % 5 + 1) / 8.0)).ToArray();
        var start = Columns.Grid(rng, 1, d)[0];
        for (int offset = 0; offset < 16; offset += 5)
        {
            var buffer = new float[d + 32];
            Array.Fill(buffer, -7.5f);
            start.CopyTo(buffer.AsSpan(offset, d));
            RowMeans.Step(batch, Enumerable.Range(0, n).ToArray(), weights, buffer.AsSpan(offset, d));
            for (int j = 0; j < d; j++)
            {
                double expected = start[j] + Enumerable.Range(0, n).Sum(i => (double)weights[i] * (rows[i][j] - start[j]));
                Assert.True(Columns.Close(buffer[offset + j], expected, 1e-4), $"offset {offset}, column {j}");
            }

            AssertUntouched(buffer, offset, d);

            // The same step from a centre kept elsewhere (centered clipping's first iteration reads v in place).
            var separate = new float[d + 32];
            Array.Fill(separate, -7.5f);
            RowMeans.Step(batch, Enumerable.Range(0, n).ToArray(), weights, start, separate.AsSpan(offset, d));
            Assert.Equal(buffer.AsSpan(offset, d).ToArray(), separate.AsSpan(offset, d).ToArray());
            AssertUntouched(separate, offset, d);
        }
    }

    private static void AssertUntouched(float[] buffer, int offset, int d)
    {
        for (int j = 0; j < buffer.Length; j++)
        {
            if (j < offset || j >= offset + d)
            {
                Assert.Equal(-7.5f, buffer[j]);
            }
        }
    }
}
