using Dstar.Core.Kernels;
using Dstar.Core.Tests.Attacks;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

public class ColumnStatisticsTests
{
    [Property(MaxTest = 60)]
    public Property Mean_and_deviation_equal_the_naive_ones(PositiveInt rows, PositiveInt cols, int seed)
    {
        int n = rows.Get % 15 + 1, d = cols.Get % 70 + 1;
        var data = Reference.Rows(n, d, seed, spread: 5, offset: 50);
        var mean = new float[d];
        var deviation = new float[d];
        ColumnStatistics.MeanAndStandardDeviation(Reference.Batch(data), mean, deviation, new float[d]);
        var expectedMean = Reference.Mean(data);
        var expectedDeviation = Reference.Deviation(data);
        bool ok = true;
        for (int j = 0; j < d; j++)
        {
            ok &= Math.Abs(mean[j] - expectedMean[j]) <= 1e-4 * (1 + Math.Abs(expectedMean[j]));
            ok &= Math.Abs(deviation[j] - expectedDeviation[j]) <= 1e-3 * (1 + expectedDeviation[j]);
        }

        return ok.ToProperty();
    }

    [Fact]
    public void Statistics_of_a_hand_computed_batch()
    {
        // Rows (1,2), (3,2), (2,5): μ = (2, 3); deviations (−1,1,0) and (−1,−1,2), so σ = (√(2/3), √(6/3)).
        var mean = new float[2];
        var deviation = new float[2];
        ColumnStatistics.MeanAndStandardDeviation(GradientBatch.FromRows([[1f, 2f], [3f, 2f], [2f, 5f]]), mean, deviation, new float[2]);
        Reference.AssertClose([2, 3], mean);
        Reference.AssertClose([Math.Sqrt(2.0 / 3), Math.Sqrt(2)], deviation);
    }

    [Fact]
    public void A_single_row_has_zero_deviation()
    {
        var mean = new float[3];
        var deviation = new float[3];
        ColumnStatistics.MeanAndStandardDeviation(GradientBatch.FromRows([[1f, -2f, 7f]]), mean, deviation, new float[3]);
        Assert.Equal(new[] { 1f, -2f, 7f }, mean);
        Assert.Equal(new[] { 0f, 0f, 0f }, deviation);
    }

    [Fact]
    public void Empty_batch_and_wrong_lengths_are_refused()
    {
        var empty = new GradientBatch(2, 3) { Count = 0 };
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ColumnStatistics.Mean(empty, new float[3])).Message);
        var batch = GradientBatch.FromRows([[1f, 2f, 3f]]);
        Assert.Contains("d = 3", Assert.Throws<ArgumentException>(() => ColumnStatistics.Mean(batch, new float[2])).Message);
        Assert.Throws<ArgumentException>(() => ColumnStatistics.MeanAndStandardDeviation(batch, new float[3], new float[3], new float[4]));
    }
}
