using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class MultiKrumTests
{
    [Property(MaxTest = 60)]
    public Property Multi_krum_averages_the_m_rows_with_the_lowest_naive_scores(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 3, 20);
        int f = rng.Next(0, (n - 3) / 2 + 1);
        int? m = rng.Next(2) == 0 ? null : rng.Next(1, n + 1);
        var data = RandomRows(rng, n, d);
        var output = new float[d];
        var report = new MultiKrum(f, m).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var naive = KrumScores(data, Enumerable.Range(0, n).ToArray(), n - f - 2);
        var order = Enumerable.Range(0, n).OrderBy(i => naive[i]).ThenBy(i => i).ToArray();
        int selected = m ?? n - f;
        var expected = order.Take(selected).OrderBy(i => i).ToArray();
        // A near-tie at the cut may swap one row; otherwise the sets and the means agree.
        bool nearTie = selected < n && naive[order[selected]] - naive[order[selected - 1]] <= 1e-5 * naive[order[selected]];
        bool ok = nearTie || (report.Kept.SequenceEqual(expected) && Close(output, Mean(expected.Select(i => data[i])), 1e-5));
        return ok.ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Multi_krum_with_m_equal_n_is_the_mean(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 5, 20);
        var data = RandomRows(rng, n, d);
        var output = new float[d];
        new MultiKrum(1, n).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        return Close(output, Mean(data), 1e-5).ToProperty();
    }

    [Fact]
    public void Multi_krum_with_m_equal_1_is_krum()
    {
        var data = RandomRows(new Random(4), 9, 50);
        var a = new float[50];
        var b = new float[50];
        new MultiKrum(2, 1).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), a);
        new Krum(2).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), b);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Multi_krum_ignores_f_huge_rows_with_the_default_m()
    {
        var data = RandomRows(new Random(5), 10, 20, scale: 1);
        Array.Fill(data[0], 1e20f);
        Array.Fill(data[7], -1e20f);
        var output = new float[20];
        var report = new MultiKrum().Aggregate(GradientBatch.FromRows(data), new AggregationContext(2), output);
        Assert.Equal(8, report.Kept.Count);
        Assert.DoesNotContain(0, report.Kept);
        Assert.DoesNotContain(7, report.Kept);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Multi_krum_refuses_bad_n_and_m()
    {
        var batch = GradientBatch.FromRows(RandomRows(new Random(1), 6, 3));
        Assert.Contains("multi-krum needs n ≥ 2f+3 = 7, got n = 6", Assert.Throws<AggregationException>(() => new MultiKrum(2).Aggregate(batch, new AggregationContext(), new float[3])).Message);
        Assert.Contains("multi-krum needs n ≥ m = 7, got n = 6 (m = 7)", Assert.Throws<AggregationException>(() => new MultiKrum(1, 7).Aggregate(batch, new AggregationContext(), new float[3])).Message);
        Assert.Contains("m=0", Assert.Throws<SpecException>(() => Registry.Rules.Create("multi-krum m=0")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiKrum(1, 0));
    }

    [Fact]
    public void Multi_krum_drops_and_reports_non_finite_rows()
    {
        var data = RandomRows(new Random(6), 7, 5, scale: 1);
        data[2][4] = float.NegativeInfinity;
        var output = new float[5];
        var report = Registry.Rules.Create("multi-krum f=1").Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        Assert.Equal(new[] { 2 }, report.NonFiniteRows);
        Assert.Equal(5, report.Kept.Count);
        Assert.DoesNotContain(2, report.Kept);
        Assert.All(output, v => Assert.True(float.IsFinite(v)));
    }
}
