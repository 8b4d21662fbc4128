using Dstar.Core.PreAggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.PreAggregation;

public class BucketingTests
{
    [Property(MaxTest = 40)]
    public Property Bucketing_averages_buckets_of_the_seeded_shuffle(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        int size = rng.Next(1, 6);
        var data = Columns.Grid(rng, n, d);
        var result = Registry.PreAggregators.Create($"bucketing size={size}").Apply(GradientBatch.FromRows(data), new AggregationContext(0, new Random(seed)));
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var buckets = order.Chunk(size).ToArray();
        bool ok = result.Count == buckets.Length;
        for (int k = 0; ok && k < buckets.Length; k++)
        {
            var row = result.Row(k).ToArray();
            ok &= Columns.AllClose(row, j => buckets[k].Average(i => (double)data[i][j]));
        }

        return ok.ToProperty();
    }

    [Fact]
    public void Bucketing_reuses_its_buffer_and_is_deterministic_for_a_seed()
    {
        var data = Columns.Grid(new Random(1), 10, 20);
        var bucketing = new Bucketing(3);
        var first = bucketing.Apply(GradientBatch.FromRows(data), new AggregationContext(0, new Random(5))).AsSpan().ToArray();
        var again = bucketing.Apply(GradientBatch.FromRows(data), new AggregationContext(0, new Random(5)));
        Assert.Equal(first, again.AsSpan().ToArray());
        Assert.Same(again, bucketing.Apply(GradientBatch.FromRows(data), new AggregationContext(0, new Random(6))));
    }

    [Fact]
    public void Bucketing_spec_refuses_a_size_below_one()
    {
        var error = Assert.Throws<SpecException>(() => Registry.PreAggregators.Create("bucketing size=0"));
        Assert.Contains("size=0", error.Message);
    }
}
