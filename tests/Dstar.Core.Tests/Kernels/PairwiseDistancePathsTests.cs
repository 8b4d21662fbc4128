using Dstar.Core.Kernels;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// The two AVX-512 Gram passes (centring in registers on the rows in place, the default, and copying each tile into
/// scratch first, the other hardware's path) on the same inputs, each against naive double distances.
/// </summary>
[Collection(nameof(KernelSettingsCollection))]
public class PairwiseDistancePathsTests
{
    private static (int Finite, int[] Rows, double[] Distances) Run(float[][] data, bool inRegisters)
    {
        using (KernelSettings.Override(centerInRegisters: inRegisters))
        {
            var rows = Enumerable.Range(0, data.Length).ToArray();
            var distances = new double[data.Length * data.Length];
            int m = PairwiseDistances.SquaredOfFiniteRows(GradientBatch.FromRows(data), rows, distances);
            return (m, rows[..m], distances[..(m * m)]);
        }
    }

    private static void AssertNaive(float[][] rows, double[] distances, double relative)
    {
        int n = rows.Length;
        double largest = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                largest = Math.Max(largest, Distance2(rows[i], rows[j]));
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = Distance2(rows[i], rows[j]);
                Assert.True(Math.Abs(distances[i * n + j] - expected) <= relative * expected + 1e-7 * largest, $"({i}, {j}): {distances[i * n + j]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(true, 16, 16_400)]
    [InlineData(false, 16, 16_400)]
    [InlineData(true, 5, 8_199)]
    [InlineData(false, 5, 8_199)]
    [InlineData(true, 2, 15)]
    [InlineData(true, 18, 33)]
    public void Both_passes_match_naive_distances_across_tiles_and_a_ragged_end(bool inRegisters, int n, int d)
    {
        var data = RandomRows(new Random(n * 17 + d), n, d);
        var (m, _, distances) = Run(data, inRegisters);
        Assert.Equal(n, m);
        AssertNaive(data, distances, 1e-5);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(1)]
    public void The_narrower_gram_kernels_of_machines_without_avx512_match_naive_distances(int width)
    {
        // What runs without AVX-512: the copying pass with the 8-wide (AVX2) or scalar 4×4 blocks.
        using (KernelSettings.Override(widthLimit: width))
        {
            foreach (var (n, d) in new[] { (16, 16_400), (5, 8_199), (2, 15) })
            {
                var data = RandomRows(new Random(n * 31 + d + width), n, d);
                data[n - 1][d - 1] = float.NaN;
                var (m, rows, distances) = Run(data, inRegisters: true);
                Assert.Equal(n - 1, m);
                AssertNaive(rows.Select(i => data[i]).ToArray(), distances, 1e-5);
            }

            var offset = RandomRows(new Random(4), 9, 20_000, scale: 1, offset: 1000);
            AssertNaive(offset, Run(offset, inRegisters: true).Distances, 1e-3);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_passes_keep_precision_under_a_large_common_offset_over_many_tiles(bool inRegisters)
    {
        var data = RandomRows(new Random(4), 9, 20_000, scale: 1, offset: 1000);
        AssertNaive(data, Run(data, inRegisters).Distances, 1e-3);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_passes_drop_rows_with_nan_or_infinity_in_any_tile_including_the_ragged_end(bool inRegisters)
    {
        // d = 16,390: two full tiles of 8,192 at n = 8, then a 6-column end that is not a whole register.
        var data = RandomRows(new Random(9), 8, 16_390);
        data[0][5] = float.NaN;                  // first tile
        data[3][9000] = float.NegativeInfinity;  // second tile
        data[6][16_388] = float.NaN;             // the ragged end
        var (m, rows, distances) = Run(data, inRegisters);
        Assert.Equal(5, m);
        Assert.Equal(new[] { 1, 2, 4, 5, 7 }, rows);
        AssertNaive(rows.Select(i => data[i]).ToArray(), distances, 1e-5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_passes_put_a_row_too_large_for_float_products_in_a_later_tile_infinitely_far(bool inRegisters)
    {
        var data = RandomRows(new Random(10), 6, 20_000);
        for (int j = 12_000; j < 13_000; j++)
        {
            data[4][j] = 1e30f;
        }

        var (m, _, distances) = Run(data, inRegisters);
        Assert.Equal(6, m);
        for (int j = 0; j < 6; j++)
        {
            Assert.Equal(j == 4 ? 0 : double.PositiveInfinity, distances[4 * 6 + j]);
        }

        var others = new[] { 0, 1, 2, 3, 5 };
        var sub = others.SelectMany(i => others.Select(j => distances[i * 6 + j])).ToArray();
        AssertNaive(others.Select(i => data[i]).ToArray(), sub, 1e-5);
    }
}
