using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class FlTrustTests
{
    private static double[] Naive(float[][] data, float[] g0)
    {
        double g0Norm = Norm(g0.Select(v => (double)v));
        var sum = new double[g0.Length];
        double total = 0;
        foreach (var x in data)
        {
            double norm = Norm(x.Select(v => (double)v));
            double cosine = x.Select((v, j) => (double)v * g0[j]).Sum() / (norm * g0Norm);
            double w = Math.Max(0, cosine);
            total += w;
            for (int j = 0; j < sum.Length; j++)
            {
                sum[j] += w * g0Norm / norm * x[j];
            }
        }

        return sum.Select(v => total > 0 ? v / total : 0).ToArray();
    }

    [Property(MaxTest = 60)]
    public Property Fltrust_matches_the_naive_formula(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 20);
        var data = RandomRows(rng, n, d);
        var g0 = RandomRows(rng, 1, d)[0];
        var output = new float[d];
        new FlTrust().Aggregate(GradientBatch.FromRows(data), new AggregationContext { ValidationGradient = g0 }, output);
        return Close(output, Naive(data, g0), 1e-4).ToProperty();
    }

    [Fact]
    public void Fltrust_gives_anti_aligned_rows_no_weight()
    {
        var rng = new Random(3);
        var g0 = RandomRows(rng, 1, 50)[0];
        var honest = Enumerable.Range(0, 6).Select(_ => g0.Select(v => v + (float)(rng.NextDouble() - 0.5)).ToArray()).ToArray();
        var attack = Enumerable.Range(0, 3).Select(k => g0.Select(v => -(k + 1) * 100 * v).ToArray()).ToArray();
        var context = new AggregationContext { ValidationGradient = g0 };
        var withAttack = new float[50];
        var honestOnly = new float[50];
        var report = new FlTrust().Aggregate(GradientBatch.FromRows(honest.Concat(attack).ToArray()), context, withAttack);
        new FlTrust().Aggregate(GradientBatch.FromRows(honest), context, honestOnly);
        Assert.Equal(Enumerable.Range(0, 6), report.Kept);
        Assert.All(report.Weights!.Skip(6), w => Assert.Equal(0, w));
        Assert.All(report.Scores!.Skip(6), c => Assert.True(c < -0.99));
        Assert.True(Close(withAttack, honestOnly.Select(v => (double)v).ToArray(), 1e-6));
    }

    [Fact]
    public void Fltrust_outputs_zero_and_keeps_nothing_when_every_row_points_against_g0()
    {
        var g0 = new[] { 1f, 1f };
        var output = new[] { 9f, 9f };
        var report = new FlTrust().Aggregate(GradientBatch.FromRows([[-1f, -2f], [0f, 0f], [-3f, 1f]]), new AggregationContext { ValidationGradient = g0 }, output);
        Assert.Equal(new[] { 0f, 0f }, output);
        Assert.Empty(report.Kept);
        Assert.All(report.Weights!, w => Assert.Equal(0, w));
    }

    [Fact]
    public void Fltrust_refuses_a_missing_mismatched_or_non_finite_g0_and_drops_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [float.NaN, 1f], [2f, 1f]]);
        Assert.Contains("fltrust needs the server's validation gradient", Assert.Throws<AggregationException>(() => Registry.Rules.Create("fltrust").Aggregate(batch, new AggregationContext(), new float[2])).Message);
        Assert.Contains("expected d = 2", Assert.Throws<AggregationException>(() => new FlTrust().Aggregate(batch, new AggregationContext { ValidationGradient = new float[3] }, new float[2])).Message);
        Assert.Contains("NaN", Assert.Throws<AggregationException>(() => new FlTrust().Aggregate(batch, new AggregationContext { ValidationGradient = [float.NaN, 1f] }, new float[2])).Message);
        var report = new FlTrust().Aggregate(batch, new AggregationContext { ValidationGradient = [1f, 1f] }, new float[2]);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
        Assert.Equal(new[] { 0, 2 }, report.Kept);
        Assert.Equal(1, report.Weights!.Sum(), 1e-12);
    }
}
