using Dstar.Core.PreAggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.PreAggregation;

public class NnmTests
{
    [Property(MaxTest = 50)]
    public Property Nnm_replaces_each_row_by_the_mean_of_its_n_minus_f_nearest(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 20);
        int f = rng.Next(0, n);
        var data = RandomRows(rng, n, d);
        var result = new Nnm(f).Apply(GradientBatch.FromRows(data), new AggregationContext());
        bool ok = result.Count == n;
        for (int i = 0; i < n; i++)
        {
            var byDistance = Enumerable.Range(0, n).OrderBy(j => j == i ? -1 : Distance2(data[i], data[j])).ToArray();
            var expected = Mean(byDistance.Take(n - f).Select(j => data[j]));
            int k = n - f;
            // A near-tie at the k-th neighbour may swap which row is included.
            bool nearTie = k < n && Distance2(data[i], data[byDistance[k]]) - Distance2(data[i], data[byDistance[k - 1]]) <= 1e-5 * Distance2(data[i], data[byDistance[k]]);
            ok &= nearTie || Close(result.Row(i), expected, 1e-5);
        }

        return ok.ToProperty();
    }

    [Theory]
    [InlineData(7, 5000, 2)]
    [InlineData(20, 2100, 5)]
    public void Nnm_matches_the_naive_means_across_tiles(int n, int d, int f)
    {
        var data = RandomRows(new Random(n + d), n, d);
        var result = new Nnm(f).Apply(GradientBatch.FromRows(data), new AggregationContext());
        for (int i = 0; i < n; i++)
        {
            var nearest = Enumerable.Range(0, n).OrderBy(j => j == i ? -1 : Distance2(data[i], data[j])).Take(n - f);
            Assert.True(Close(result.Row(i), Mean(nearest.Select(j => data[j])), 1e-5), $"row {i}");
        }
    }

    [Fact]
    public void Nnm_leaves_the_input_alone_and_reuses_its_output_batch()
    {
        var data = RandomRows(new Random(1), 6, 20);
        var input = GradientBatch.FromRows(data);
        var before = input.AsSpan().ToArray();
        var nnm = Registry.PreAggregators.Create("nnm f=2");
        var first = nnm.Apply(input, new AggregationContext());
        var second = nnm.Apply(input, new AggregationContext());
        Assert.Same(first, second);
        Assert.NotSame(input, first);
        Assert.Equal(before, input.AsSpan().ToArray());
    }

    [Fact]
    public void Nnm_passes_non_finite_rows_through_so_the_rule_reports_them()
    {
        var data = RandomRows(new Random(2), 5, 8);
        data[3][7] = float.NaN;
        var result = new Nnm(1).Apply(GradientBatch.FromRows(data), new AggregationContext());
        Assert.True(float.IsNaN(result.Row(3)[7]));
        var finite = new[] { 0, 1, 2, 4 };
        var byDistance = finite.OrderBy(j => j == 0 ? -1 : Distance2(data[0], data[j])).Take(3);
        Assert.True(Close(result.Row(0), Mean(byDistance.Select(j => data[j])), 1e-5));
        var pipeline = Registry.Pipeline("krum f=0", ["nnm f=1"]);
        Assert.Equal(new[] { 3 }, pipeline.Aggregate(GradientBatch.FromRows(data), new AggregationContext(), new float[8]).NonFiniteRows);
    }

    [Fact]
    public void Nnm_refuses_n_not_above_f()
    {
        var data = RandomRows(new Random(3), 3, 4);
        Assert.Contains("nnm needs n ≥ f+1 = 4, got n = 3", Assert.Throws<AggregationException>(() => new Nnm().Apply(GradientBatch.FromRows(data), new AggregationContext(3))).Message);
        data[0][0] = float.NaN;
        Assert.Contains("after dropping 1 of 3 rows", Assert.Throws<AggregationException>(() => new Nnm(2).Apply(GradientBatch.FromRows(data), new AggregationContext())).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nnm(-1));
    }
}
