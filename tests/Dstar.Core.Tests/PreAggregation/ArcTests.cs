using Dstar.Core.PreAggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.PreAggregation;

public class ArcTests
{
    [Property(MaxTest = 40)]
    public Property Arc_clips_the_k_largest_norms_to_the_next_largest(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        int f = rng.Next(n);
        var data = Columns.Grid(rng, n, d);
        var result = Registry.PreAggregators.Create($"arc f={f}").Apply(GradientBatch.FromRows(data), new AggregationContext());
        var norms = data.Select(r => Math.Sqrt(r.Sum(x => (double)x * x))).ToArray();
        int k = (int)Math.Floor(2.0 * f / n * (n - f) + 1e-9);
        var byNorm = Enumerable.Range(0, n).OrderByDescending(i => norms[i]).ThenBy(i => i).ToArray();
        double limit = k == 0 ? double.PositiveInfinity : norms[byNorm[k]];
        bool ok = true;
        for (int i = 0; i < n; i++)
        {
            bool clipped = Array.IndexOf(byNorm, i) < k && norms[i] > limit;
            double scale = clipped ? limit / norms[i] : 1;
            ok &= Columns.AllClose(result.Row(i).ToArray(), j => data[i][j] * scale);
        }

        return ok.ToProperty();
    }

    [Fact]
    public void Arc_clips_a_huge_row_to_the_largest_honest_norm()
    {
        var batch = GradientBatch.FromRows([[1f, 0f], [0f, 2f], [3e30f, 4e30f], [1f, 1f]]);
        new Arc(1).Apply(batch, new AggregationContext());
        // n = 4, f = 1: k = ⌊2·(1/4)·3⌋ = 1, so only the huge row is clipped, to norm 2.
        Assert.Equal(1.2f, batch.Row(2)[0], 4);
        Assert.Equal(1.6f, batch.Row(2)[1], 4);
        Assert.Equal(2f, batch.Row(1)[1]);
    }

    [Fact]
    public void Arc_refuses_n_at_most_f()
    {
        var error = Assert.Throws<AggregationException>(() => new Arc().Apply(GradientBatch.FromRows([[1f], [2f]]), new AggregationContext(2)));
        Assert.Contains("arc needs n ≥ f+1 = 3, got n = 2 (f = 2)", error.Message);
    }
}
