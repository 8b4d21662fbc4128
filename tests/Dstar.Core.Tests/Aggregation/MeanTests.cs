using Dstar.Core.Aggregation;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class MeanTests
{
    [Property(MaxTest = 50)]
    public Property Mean_equals_the_naive_mean(PositiveInt rows, PositiveInt cols, int seed)
    {
        int n = rows.Get % 20 + 1, d = cols.Get % 50 + 1;
        var rng = new Random(seed);
        var data = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray()).ToArray();
        var output = new float[d];
        new Mean().Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        bool ok = true;
        for (int j = 0; j < d; j++)
        {
            double expected = data.Average(r => (double)r[j]);
            ok &= Math.Abs(output[j] - expected) <= 1e-4 * (1 + Math.Abs(expected));
        }

        return ok.ToProperty();
    }

    [Fact]
    public void Mean_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [float.NaN, 0f], [3f, 4f]]);
        var output = new float[2];
        var report = new Mean().Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(new[] { 2f, 3f }, output);
        Assert.Equal(new[] { 0, 2 }, report.Kept);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
    }
}
