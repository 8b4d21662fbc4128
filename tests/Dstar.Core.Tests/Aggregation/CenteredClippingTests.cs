using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class CenteredClippingTests
{
    private static double[] Naive(float[][] rows, double[] start, double tau, int iterations)
    {
        int n = rows.Length, d = start.Length;
        var v = (double[])start.Clone();
        for (int t = 0; t < iterations; t++)
        {
            var step = new double[d];
            foreach (var x in rows)
            {
                double norm = Math.Sqrt(Enumerable.Range(0, d).Sum(j => (x[j] - v[j]) * (x[j] - v[j])));
                double scale = norm > tau ? tau / norm : 1;
                for (int j = 0; j < d; j++)
                {
                    step[j] += scale * (x[j] - v[j]) / n;
                }
            }

            for (int j = 0; j < d; j++)
            {
                v[j] += step[j];
            }
        }

        return v;
    }

    [Property(MaxTest = 50)]
    public Property Centered_clipping_equals_the_naive_iteration(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        double tau = new[] { 0.5, 10, 100, 1e4 }[rng.Next(4)];
        int iterations = rng.Next(1, 4);
        var previous = rng.Next(2) == 0 ? null : Columns.Grid(rng, 1, d)[0];
        var output = new float[d];
        var context = new AggregationContext { PreviousAggregate = previous };
        Registry.Rules.Create($"centered-clipping tau={tau} iterations={iterations}").Aggregate(GradientBatch.FromRows(data), context, output);
        var expected = Naive(data, previous?.Select(x => (double)x).ToArray() ?? new double[d], tau, iterations);
        return Enumerable.Range(0, d).All(j => Math.Abs(output[j] - expected[j]) <= 1e-3 * (1 + Math.Abs(expected[j]))).ToProperty();
    }

    [Fact]
    public void Centered_clipping_moves_at_most_tau_per_iteration_whatever_the_rows()
    {
        var batch = GradientBatch.FromRows([[1e30f, -1e30f], [1f, 1f], [-1e30f, 0f]]);
        var output = new float[2];
        var report = new CenteredClipping(tau: 1, iterations: 2).Aggregate(batch, new AggregationContext(), output);
        Assert.True(Math.Sqrt(output[0] * output[0] + output[1] * output[1]) <= 2 + 1e-5);
        Assert.Empty(report.NonFiniteRows);
        Assert.True(report.Scores![0] > 1e29);
    }

    [Fact]
    public void Centered_clipping_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 1f], [float.NaN, 1f], [3f, 3f]]);
        var output = new float[2];
        var report = new CenteredClipping(tau: 100).Aggregate(batch, new AggregationContext(), output);
        Assert.Equal(new[] { 2f, 2f }, output);
        Assert.Equal(new[] { 1 }, report.NonFiniteRows);
        Assert.Equal(new[] { 0, 2 }, report.Kept);
    }

    [Fact]
    public void Centered_clipping_refuses_a_bad_previous_aggregate()
    {
        var batch = GradientBatch.FromRows([[1f, 1f], [3f, 3f]]);
        var length = Assert.Throws<AggregationException>(() => new CenteredClipping().Aggregate(batch, new AggregationContext { PreviousAggregate = [1f] }, new float[2]));
        Assert.Contains("previous aggregate has 1 values", length.Message);
        var nan = Assert.Throws<AggregationException>(() => new CenteredClipping().Aggregate(batch, new AggregationContext { PreviousAggregate = [float.NaN, 0f] }, new float[2]));
        Assert.Contains("previous aggregate holds non-finite", nan.Message);
    }

    [Theory]
    [InlineData("centered-clipping tau=0", "tau=0")]
    [InlineData("centered-clipping iterations=0", "iterations=0")]
    [InlineData("centered-clipping radius=1", "radius")]
    public void Centered_clipping_spec_refuses_bad_options(string spec, string named)
    {
        var error = Assert.Throws<SpecException>(() => Registry.Rules.Create(spec));
        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(30)]
    public void Centered_clipping_and_mean_give_the_same_result_on_two_threads(int n)
    {
        var rng = new Random(n);
        int d = 40_000;
        var data = Columns.Gaussian(rng, n, new float[d], 1);
        foreach (var spec in new[] { "centered-clipping tau=50 iterations=2", "mean" })
        {
            var one = new float[d];
            var two = new float[d];
            Registry.Rules.Create(spec).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), one);
            Registry.Rules.Create(spec).Aggregate(GradientBatch.FromRows(data), new AggregationContext { MaxDegreeOfParallelism = 2 }, two);
            Assert.All(Enumerable.Range(0, d), j => Assert.Equal(one[j], two[j], 1e-5));
        }
    }
}
