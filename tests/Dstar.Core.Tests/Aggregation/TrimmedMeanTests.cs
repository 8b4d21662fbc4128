using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class TrimmedMeanTests
{
    [Property(MaxTest = 60)]
    public Property Trimmed_mean_equals_the_naive_trimmed_mean(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        int f = rng.Next((n + 1) / 2);
        var data = Columns.Grid(rng, n, d);
        var output = new float[d];
        Registry.Rules.Create($"trimmed-mean f={f}").Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        return Columns.AllClose(output, j => Columns.TrimmedMeanOf(Columns.Column(data, j), f)).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Trimmed_mean_with_f_zero_is_the_mean(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var data = Columns.Grid(new Random(seed), n, d);
        var trimmed = new float[d];
        var mean = new float[d];
        new TrimmedMean(0).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), trimmed);
        new Mean().Aggregate(GradientBatch.FromRows(data), new AggregationContext(), mean);
        return Enumerable.Range(0, d).All(j => Columns.Close(trimmed[j], mean[j])).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Trimmed_mean_ignores_row_order(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        int f = (n - 1) / 2;
        var first = new float[d];
        var second = new float[d];
        new TrimmedMean(f).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), first);
        new TrimmedMean(f).Aggregate(GradientBatch.FromRows(data.OrderBy(_ => rng.Next()).ToArray()), new AggregationContext(), second);
        return Enumerable.Range(0, d).All(j => Columns.Close(first[j], second[j])).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Trimmed_mean_stays_within_the_honest_rows_with_f_huge_rows(int a, int b, int seed)
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
        new TrimmedMean().Aggregate(GradientBatch.FromRows(data), new AggregationContext(f), output);
        var honestRows = data.Where(r => Math.Abs(r[0]) < 1e29).ToArray();
        return Enumerable.Range(0, d).All(j =>
            output[j] >= honestRows.Min(r => r[j]) - 1e-4 && output[j] <= honestRows.Max(r => r[j]) + 1e-4).ToProperty();
    }

    [Fact]
    public void Trimmed_mean_refuses_n_at_most_two_f()
    {
        var batch = GradientBatch.FromRows([[1f], [2f], [3f], [4f]]);
        var error = Assert.Throws<AggregationException>(() => new TrimmedMean().Aggregate(batch, new AggregationContext(2), new float[1]));
        Assert.Contains("trimmed-mean needs n ≥ 2f+1 = 5, got n = 4 (f = 2)", error.Message);
        Assert.NotNull(new TrimmedMean(2).CheckRequirements(4, 0, false));
    }

    [Fact]
    public void Trimmed_mean_refuses_too_few_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f], [float.NaN], [3f]]);
        var error = Assert.Throws<AggregationException>(() => new TrimmedMean(1).Aggregate(batch, new AggregationContext(), new float[1]));
        Assert.Equal("trimmed-mean needs n ≥ 2f+1 = 3, got n = 2 (f = 1) after dropping 1 of 3 rows holding NaN or ±∞", error.Message);
    }

    [Fact]
    public void Trimmed_mean_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f], [float.NaN], [3f], [100f], [2f]]);
        var output = new float[1];
        var report = new TrimmedMean(1).Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(2.5f, output[0]);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
        Assert.Equal(new[] { 0, 2, 3, 4 }, report.Kept);
    }

    [Fact]
    public void Trimmed_mean_spec_refuses_a_negative_f()
    {
        var error = Assert.Throws<SpecException>(() => Registry.Rules.Create("trimmed-mean f=-1"));
        Assert.Contains("f=-1", error.Message);
    }
}
