using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class MedianTests
{
    [Property(MaxTest = 60)]
    public Property Median_equals_the_naive_median(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var data = Columns.Grid(new Random(seed), n, d);
        var output = new float[d];
        var report = Registry.Rules.Create("median").Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        return (Columns.AllClose(output, j => Columns.MedianOf(Columns.Column(data, j)), 0) && report.Kept.Count == n).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Median_ignores_row_order(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        var shuffled = data.OrderBy(_ => rng.Next()).ToArray();
        var first = new float[d];
        var second = new float[d];
        new Median().Aggregate(GradientBatch.FromRows(data), new AggregationContext(), first);
        new Median().Aggregate(GradientBatch.FromRows(shuffled), new AggregationContext(), second);
        return first.SequenceEqual(second).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Median_ignores_f_arbitrary_rows(int a, int b, int seed)
    {
        var (honest, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        int f = rng.Next(honest);
        var data = Columns.Grid(rng, honest, d).ToList();
        for (int i = 0; i < f; i++)
        {
            data.Insert(rng.Next(data.Count + 1), Enumerable.Repeat(rng.Next(2) == 0 ? 1e30f : -1e30f, d).ToArray());
        }

        var output = new float[d];
        new Median().Aggregate(GradientBatch.FromRows(data), new AggregationContext(f), output);
        var honestRows = data.Where(r => Math.Abs(r[0]) < 1e29).ToArray();
        return Enumerable.Range(0, d).All(j =>
            output[j] >= honestRows.Min(r => r[j]) && output[j] <= honestRows.Max(r => r[j])).ToProperty();
    }

    [Fact]
    public void Median_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [float.NaN, 0f], [3f, 4f], [5f, float.NegativeInfinity], [2f, 9f]]);
        var output = new float[2];
        var report = new Median().Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(new[] { 2f, 4f }, output);
        Assert.Equal(new[] { 0, 2, 4 }, report.Kept);
        Assert.Equal(new[] { 1, 3 }, report.NonFiniteRows);
    }

    [Fact]
    public void Median_fails_when_every_row_is_non_finite()
    {
        var batch = GradientBatch.FromRows([[float.NaN, 2f], [float.PositiveInfinity, 0f]]);
        var error = Assert.Throws<AggregationException>(() => new Median().Aggregate(batch, new AggregationContext(), new float[2]));
        Assert.Contains("median", error.Message);
    }

    [Fact]
    public void Median_refuses_an_output_of_the_wrong_length()
    {
        var batch = GradientBatch.FromRows([[1f, 2f]]);
        var error = Assert.Throws<AggregationException>(() => new Median().Aggregate(batch, new AggregationContext(), new float[3]));
        Assert.Contains("median", error.Message);
    }

    [Fact]
    public void Median_keeps_huge_finite_rows_out_of_the_result()
    {
        var batch = GradientBatch.FromRows([[1f, 1f], [3e38f, 3e38f], [3e38f, 3e38f], [2f, 2f], [1.5f, 1.5f]]);
        var output = new float[2];
        var report = new Median().Aggregate(batch, new AggregationContext(2), output);
        Assert.Equal(new[] { 2f, 2f }, output);
        Assert.Empty(report.NonFiniteRows);
    }
}
