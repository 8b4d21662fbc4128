using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class ZenoTests
{
    // F(x) = ½‖x − x*‖², whose gradient at x is x − x*.
    private static ValidationLoss Quadratic(float[] optimum) => x =>
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            sum += 0.5 * (x[j] - optimum[j]) * (x[j] - optimum[j]);
        }

        return sum;
    };

    [Property(MaxTest = 50)]
    public Property Zeno_averages_the_n_minus_b_rows_with_the_best_naive_scores(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 20);
        int b = rng.Next(0, n);
        var data = RandomRows(rng, n, d, scale: 1);
        var x = RandomRows(rng, 1, d)[0];
        var optimum = RandomRows(rng, 1, d)[0];
        var loss = Quadratic(optimum);
        var context = new AggregationContext { Parameters = x, ValidationLoss = loss };
        var output = new float[d];
        var report = new Zeno(b, 0.0005, 0.1).Aggregate(GradientBatch.FromRows(data), context, output);
        var scores = data.Select(g => loss(x) - loss(x.Select((v, j) => v - 0.1f * g[j]).ToArray()) - 0.0005 * g.Sum(v => (double)v * v)).ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var expected = order.Take(n - b).OrderBy(i => i).ToArray();
        bool nearTie = b > 0 && Math.Abs(scores[order[n - b - 1]] - scores[order[n - b]]) <= 1e-4 * (1 + Math.Abs(scores[order[n - b]]));
        return (nearTie || (report.Kept.SequenceEqual(expected) && Close(output, Mean(expected.Select(i => data[i])), 1e-5))).ToProperty();
    }

    [Fact]
    public void Zeno_keeps_the_descent_directions_of_a_quadratic_loss()
    {
        var rng = new Random(4);
        int d = 30;
        var optimum = new float[d];
        var x = RandomRows(rng, 1, d, scale: 5)[0];
        var gradient = x.Select((v, j) => v - optimum[j]).ToArray();
        var honest = Enumerable.Range(0, 7).Select(_ => gradient.Select(v => v + (float)(rng.NextDouble() - 0.5)).ToArray());
        var ascent = Enumerable.Range(0, 3).Select(k => gradient.Select(v => -(k + 1) * v).ToArray());
        var output = new float[d];
        var report = Registry.Rules.Create("zeno b=3").Aggregate(
            GradientBatch.FromRows(honest.Concat(ascent).ToArray()),
            new AggregationContext { Parameters = x, ValidationLoss = Quadratic(optimum) },
            output);
        Assert.Equal(Enumerable.Range(0, 7), report.Kept);
        Assert.All(report.Scores!.Skip(7), s => Assert.True(s < report.Scores!.Take(7).Min()));
    }

    [Fact]
    public void Zeno_refuses_missing_parameters_or_loss_and_too_few_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [2f, 1f]]);
        var output = new float[2];
        Assert.Contains("context.Parameters", Assert.Throws<AggregationException>(() => new Zeno().Aggregate(batch, new AggregationContext { ValidationLoss = _ => 0 }, output)).Message);
        Assert.Contains("context.ValidationLoss", Assert.Throws<AggregationException>(() => new Zeno().Aggregate(batch, new AggregationContext { Parameters = new float[2] }, output)).Message);
        Assert.Contains("expected d = 2", Assert.Throws<AggregationException>(() => new Zeno().Aggregate(batch, new AggregationContext { Parameters = new float[3], ValidationLoss = _ => 0 }, output)).Message);
        Assert.Contains("zeno needs n ≥ b+1 = 3, got n = 2", Assert.Throws<AggregationException>(() => new Zeno().Aggregate(batch, new AggregationContext(2) { Parameters = new float[2], ValidationLoss = _ => 0 }, output)).Message);
        Assert.Contains("gamma=0", Assert.Throws<SpecException>(() => Registry.Rules.Create("zeno gamma=0")).Message);
        Assert.Contains("non-finite", Assert.Throws<AggregationException>(() => new Zeno().Aggregate(batch, new AggregationContext { Parameters = new float[2], ValidationLoss = _ => double.NaN }, output)).Message);
    }

    [Fact]
    public void Zeno_drops_non_finite_rows_and_never_prefers_a_non_finite_loss()
    {
        var batch = GradientBatch.FromRows([[1f, 0f], [float.NaN, 0f], [0f, 1f], [5f, 5f]]);
        ValidationLoss loss = p => p[0] < -0.3f ? double.NaN : p[0] * p[0] + p[1] * p[1];
        var report = new Zeno(1).Aggregate(batch, new AggregationContext { Parameters = [0f, 0f], ValidationLoss = loss }, new float[2]);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
        Assert.Equal(double.NegativeInfinity, report.Scores![3]);
        Assert.Equal(new[] { 0, 2 }, report.Kept);
    }
}
