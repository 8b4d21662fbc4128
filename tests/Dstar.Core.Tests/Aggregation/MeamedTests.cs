using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class MeamedTests
{
    [Property(MaxTest = 60)]
    public Property Meamed_equals_the_naive_mean_around_the_median(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        int f = rng.Next(n);
        var data = Columns.Grid(rng, n, d);
        var output = new float[d];
        Registry.Rules.Create($"meamed f={f}").Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        return Columns.AllClose(output, j => Columns.MeamedOf(Columns.Column(data, j), n - f)).ToProperty();
    }

    [Fact]
    public void Meamed_breaks_distance_ties_toward_the_smaller_value()
    {
        // Median 2; 1 and 3 are equally close, so with keep = 2 the window is {1, 2}.
        var batch = GradientBatch.FromRows([[3f], [1f], [2f]]);
        var output = new float[1];
        new Meamed(1).Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(1.5f, output[0]);
    }

    [Property(MaxTest = 30)]
    public Property Meamed_with_f_zero_is_the_mean(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var data = Columns.Grid(new Random(seed), n, d);
        var meamed = new float[d];
        var mean = new float[d];
        new Meamed(0).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), meamed);
        new Mean().Aggregate(GradientBatch.FromRows(data), new AggregationContext(), mean);
        return Enumerable.Range(0, d).All(j => Columns.Close(meamed[j], mean[j])).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Meamed_ignores_row_order(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        int f = n / 3;
        var first = new float[d];
        var second = new float[d];
        new Meamed(f).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), first);
        new Meamed(f).Aggregate(GradientBatch.FromRows(data.OrderBy(_ => rng.Next()).ToArray()), new AggregationContext(), second);
        return Enumerable.Range(0, d).All(j => Columns.Close(first[j], second[j])).ToProperty();
    }

    [Fact]
    public void Meamed_is_not_moved_by_huge_rows_next_to_the_window()
    {
        // Sliding a running sum past ±1e30 would cancel the honest values away; the masked window sum does not.
        var batch = GradientBatch.FromRows([[-1e30f], [1f], [2f], [3f], [1e30f]]);
        var output = new float[1];
        new Meamed(2).Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(2f, output[0]);
    }

    [Fact]
    public void Meamed_refuses_n_at_most_f()
    {
        var batch = GradientBatch.FromRows([[1f], [2f]]);
        var error = Assert.Throws<AggregationException>(() => new Meamed().Aggregate(batch, new AggregationContext(2), new float[1]));
        Assert.Contains("meamed needs n ≥ f+1 = 3, got n = 2 (f = 2)", error.Message);
    }

    [Fact]
    public void Meamed_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 1f], [float.PositiveInfinity, 1f], [2f, 2f], [3f, 3f]]);
        var output = new float[2];
        var report = new Meamed(1).Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(new[] { 1.5f, 1.5f }, output);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
    }
}
