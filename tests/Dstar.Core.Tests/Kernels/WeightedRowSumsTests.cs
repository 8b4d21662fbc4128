using Dstar.Core.Kernels;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Kernels;

public class WeightedRowSumsTests
{
    // Dimensions around the strip (128), the prefetch tile (2048) and rows whose starts are not 64-byte aligned.
    [Theory]
    [InlineData(5, 1, 3)]
    [InlineData(7, 127, 4)]
    [InlineData(16, 143, 16)]
    [InlineData(9, 2048, 9)]
    [InlineData(16, 4099, 16)]
    [InlineData(13, 6151, 5)]
    public void Mix_matches_naive_weighted_sums_for_every_output_row(int n, int d, int outputs)
    {
        var rng = new Random(n * 7919 + d);
        var data = RandomRows(rng, n, d);
        var batch = GradientBatch.FromRows(data);
        // A subset of the source rows in a shuffled order, and outputs written to shuffled target rows.
        var rows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(Math.Max(1, n - 2)).ToArray();
        var targetRows = Enumerable.Range(0, outputs).OrderBy(_ => rng.Next()).ToArray();
        var weights = new double[outputs * rows.Length];
        for (int k = 0; k < weights.Length; k++)
        {
            // About a third zero (skipped terms), the rest arbitrary signs and sizes.
            weights[k] = rng.Next(3) == 0 ? 0 : rng.NextDouble() * 4 - 2;
        }

        var target = new GradientBatch(outputs, d);
        target.Count = outputs;
        WeightedRowSums.Mix(batch, rows, weights, target, targetRows);
        for (int o = 0; o < outputs; o++)
        {
            var expected = new double[d];
            for (int k = 0; k < rows.Length; k++)
            {
                for (int j = 0; j < d; j++)
                {
                    expected[j] += weights[o * rows.Length + k] * data[rows[k]][j];
                }
            }

            // Float accumulation of at most n terms of size ≤ 200: absolute error well below 1e-3.
            for (int j = 0; j < d; j++)
            {
                Assert.True(Math.Abs(target.Row(targetRows[o])[j] - expected[j]) <= 1e-3, $"output {o}, column {j}: {target.Row(targetRows[o])[j]} vs {expected[j]}");
            }
        }
    }

    // One group of rows (up to 16, with the extra vector beside them) and row groups over tiles, on one and two threads.
    [Theory]
    [InlineData(0, 37, 1, true)]
    [InlineData(1, 5, 1, false)]
    [InlineData(16, 143, 1, true)]
    [InlineData(15, 40_000, 2, true)]
    [InlineData(17, StreamGroups.TileColumns + 4_321, 1, true)]
    [InlineData(40, StreamGroups.TileColumns + 4_321, 2, true)]
    [InlineData(33, 999, 1, false)]
    public void Weighted_sum_with_an_extra_vector_matches_the_naive_sum(int n, int d, int threads, bool withExtra)
    {
        var rng = new Random(n * 131 + d);
        var data = Columns.Grid(rng, Math.Max(1, n), d);
        var batch = GradientBatch.FromRows(data);
        var rows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        // About a quarter zero (skipped terms), the rest arbitrary signs and sizes.
        var weights = rows.Select(_ => rng.Next(4) == 0 ? 0 : rng.NextDouble() * 2 - 1).ToArray();
        var extra = Columns.Grid(rng, 1, d)[0];
        double extraWeight = rng.NextDouble() - 0.5;
        var buffer = new float[d + 8];
        Array.Fill(buffer, 7f);
        var output = buffer.AsSpan(3, d); // an output at no particular alignment
        WeightedRowSums.WeightedSum(batch, rows, weights, output, withExtra ? extra : default, extraWeight, threads);
        for (int j = 0; j < d; j++)
        {
            double expected = withExtra ? extraWeight * extra[j] : 0;
            for (int k = 0; k < rows.Length; k++)
            {
                expected += weights[k] * data[rows[k]][j];
            }

            // Float accumulation of at most 41 terms of size ≤ 100: absolute error well below 1e-3.
            Assert.True(Math.Abs(output[j] - expected) <= 1e-3, $"column {j}: {output[j]} vs {expected}");
        }

        Assert.Equal((7f, 7f), (buffer[2], buffer[3 + d]));
    }

    [Fact]
    public void Weighted_sum_of_nothing_is_zero()
    {
        var batch = GradientBatch.FromRows(Columns.Grid(new Random(2), 3, 20));
        var output = Enumerable.Repeat(5f, 20).ToArray();
        WeightedRowSums.WeightedSum(batch, [0, 2], [0.0, 0.0], output, new float[20], extraWeight: 0);
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Mix_refuses_to_write_into_its_own_source()
    {
        var batch = GradientBatch.FromRows(RandomRows(new Random(1), 3, 10));
        Assert.Throws<ArgumentException>(() => WeightedRowSums.Mix(batch, [0, 1, 2], new double[9], batch, [0, 1, 2]));
    }
}
