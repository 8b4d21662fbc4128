using Dstar.Core.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Kernels;

public class PairwiseDistancesTests
{
    private static double[] Compute(GradientBatch batch, int parallelism = 1)
    {
        int n = batch.Count;
        var rows = Enumerable.Range(0, n).ToArray();
        var distances = new double[n * n];
        int m = PairwiseDistances.SquaredOfFiniteRows(batch, rows, distances, parallelism);
        Assert.Equal(n, m);
        return distances;
    }

    private static bool MatchesNaive(float[][] data, double[] distances, double relative)
    {
        int n = data.Length;
        double largest = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                largest = Math.Max(largest, Distance2(data[i], data[j]));
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = Distance2(data[i], data[j]);
                if (Math.Abs(distances[i * n + j] - expected) > relative * expected + 1e-7 * largest || distances[i * n + j] != distances[j * n + i])
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Property(MaxTest = 60)]
    public Property Gram_distances_match_naive_double_distances(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 20);
        var data = RandomRows(rng, n, d);
        return MatchesNaive(data, Compute(GradientBatch.FromRows(data)), 1e-5).ToProperty();
    }

    [Theory]
    [InlineData(7, 1)]
    [InlineData(9, 1023)]
    [InlineData(3, 8193)]
    [InlineData(30, 4100)]
    [InlineData(5, 1025)]
    [InlineData(16, 20000)]
    public void Gram_distances_match_naive_across_tiles(int n, int d)
    {
        var data = RandomRows(new Random(n * 31 + d), n, d);
        Assert.True(MatchesNaive(data, Compute(GradientBatch.FromRows(data)), 1e-5));
    }

    [Fact]
    public void Gram_distances_keep_precision_under_a_large_common_offset()
    {
        // ‖x‖² ≈ 1e6·d while ‖xᵢ − xⱼ‖² ≈ d: the raw Gram form would lose every digit in float.
        var data = RandomRows(new Random(3), 12, 3000, scale: 1, offset: 1000);
        Assert.True(MatchesNaive(data, Compute(GradientBatch.FromRows(data)), 1e-3));
    }

    [Fact]
    public void Two_threads_give_the_same_distances_as_one()
    {
        var data = RandomRows(new Random(5), 13, 30_000);
        var batch = GradientBatch.FromRows(data);
        var one = Compute(batch);
        var two = Compute(batch, parallelism: 2);
        for (int k = 0; k < one.Length; k++)
        {
            Assert.True(Math.Abs(one[k] - two[k]) <= 1e-5 * (1 + one[k]), $"entry {k}: {one[k]} vs {two[k]}");
        }

        Assert.True(MatchesNaive(data, two, 1e-5));
    }

    [Fact]
    public void Rows_with_nan_or_infinity_are_left_out_and_the_rest_are_exact()
    {
        var data = RandomRows(new Random(7), 6, 2100);
        data[1][2050] = float.NaN;
        data[4][3] = float.PositiveInfinity;
        var rows = Enumerable.Range(0, 6).ToArray();
        var distances = new double[36];
        int m = PairwiseDistances.SquaredOfFiniteRows(GradientBatch.FromRows(data), rows, distances);
        Assert.Equal(4, m);
        Assert.Equal(new[] { 0, 2, 3, 5 }, rows[..m]);
        var finite = new[] { data[0], data[2], data[3], data[5] };
        Assert.True(MatchesNaive(finite, distances[..16], 1e-5));
    }

    [Fact]
    public void A_row_too_large_for_float_products_is_infinitely_far_and_does_not_disturb_the_others()
    {
        var data = RandomRows(new Random(8), 5, 100);
        Array.Fill(data[2], 1e30f);
        var distances = Compute(GradientBatch.FromRows(data));
        for (int j = 0; j < 5; j++)
        {
            Assert.Equal(j == 2 ? 0 : double.PositiveInfinity, distances[2 * 5 + j]);
        }

        var others = new[] { data[0], data[1], data[3], data[4] };
        var sub = new[] { 0, 1, 3, 4 }.SelectMany(i => new[] { 0, 1, 3, 4 }.Select(j => distances[i * 5 + j])).ToArray();
        Assert.True(MatchesNaive(others, sub, 1e-5));
    }

    [Fact]
    public void Squared_refuses_non_finite_rows_a_small_matrix_and_a_bad_row_index()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [float.NaN, 0f]]);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => PairwiseDistances.Squared(batch, new double[4])).Message);
        Assert.Contains("4 entries", Assert.Throws<ArgumentException>(() => PairwiseDistances.Squared(batch, new double[3])).Message);
        Assert.Contains("row 5", Assert.Throws<ArgumentException>(() => PairwiseDistances.SquaredOfFiniteRows(batch, new[] { 0, 5 }, new double[4])).Message);
    }

    [Fact]
    public void Squared_of_a_subset_uses_only_the_listed_rows()
    {
        var data = RandomRows(new Random(9), 5, 40);
        var rows = new[] { 4, 1 };
        var distances = new double[4];
        Assert.Equal(2, PairwiseDistances.SquaredOfFiniteRows(GradientBatch.FromRows(data), rows, distances));
        Assert.Equal(Distance2(data[4], data[1]), distances[1], 1e-5 * Distance2(data[4], data[1]));
        Assert.Equal(0, distances[0]);
    }
}
