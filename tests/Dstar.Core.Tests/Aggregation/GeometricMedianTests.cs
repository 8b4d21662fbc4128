using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class GeometricMedianTests
{
    // Plain Weiszfeld in d dimensions, in double, with the rule's stopping rule.
    private static double[] NaiveWeiszfeld(float[][] data, double nu, double tol, int iterations)
    {
        int n = data.Length, d = data[0].Length;
        var z = Mean(data);
        for (int t = 0; t < iterations; t++)
        {
            var distances = data.Select(x => Math.Sqrt(Enumerable.Range(0, d).Sum(j => (x[j] - z[j]) * (x[j] - z[j])))).ToArray();
            var w = distances.Select(r => 1 / Math.Max(nu, r)).ToArray();
            var next = new double[d];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    next[j] += w[i] * data[i][j] / w.Sum();
                }
            }

            double change = Norm(next.Zip(z, (a, b) => a - b));
            z = next;
            if (change <= tol * distances.OrderBy(r => r).ElementAt(n / 2))
            {
                break;
            }
        }

        return z;
    }

    private static double Objective(float[][] data, IReadOnlyList<double> z) =>
        data.Sum(x => Math.Sqrt(x.Select((v, j) => (v - z[j]) * (v - z[j])).Sum()));

    [Property(MaxTest = 40)]
    public Property Geometric_median_matches_naive_weiszfeld(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 20);
        var data = RandomRows(rng, n, d);
        var output = new float[d];
        new GeometricMedian().Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var expected = NaiveWeiszfeld(data, 1e-6, 1e-6, 100);
        // Both stop near the same minimizer; compare the objective (flat near the optimum) and the point at the data's scale.
        double spread = data.Average(x => Math.Sqrt(Distance2(x, data[0]))) + 1e-9;
        double gap = Norm(output.Select((v, j) => v - expected[j]));
        double objectiveGap = Objective(data, output.Select(v => (double)v).ToArray()) - Objective(data, expected);
        return (gap <= 1e-3 * spread && objectiveGap <= 1e-5 * Objective(data, expected) + 1e-6).ToProperty();
    }

    [Fact]
    public void Geometric_median_stays_within_the_breakdown_bound_of_the_honest_rows()
    {
        var rng = new Random(21);
        int n = 15, f = 7, d = 40;
        var data = RandomRows(rng, n, d, scale: 1);
        for (int i = 0; i < f; i++)
        {
            data[i] = RandomRows(rng, 1, d, scale: 1e6, offset: 1e7)[0];
        }

        var output = new float[d];
        new GeometricMedian().Aggregate(GradientBatch.FromRows(data), new AggregationContext(f), output);
        var honest = data.Skip(f).ToArray();
        var mu = Mean(honest);
        double radius = honest.Max(x => Norm(x.Select((v, j) => v - mu[j])));
        // Minsker (2015), Lemma 2.1: ‖z − μ‖ ≤ C_α · max honest ‖xᵢ − μ‖ with C = 2(n−f)/(n−2f) for f < n/2.
        double bound = 2.0 * (n - f) / (n - 2 * f) * radius;
        Assert.True(Norm(output.Select((v, j) => v - mu[j])) <= bound);
    }

    // Rows at `scale` (1e19 and beyond: their squared distances overflow float) among rows of scale 1. In exact
    // arithmetic each far row pulls z by about a unit vector, so dropping them moves z by O(1), far beyond 1e-5.
    [Theory]
    [InlineData(4e19, 13, 10, 1, 31)]
    [InlineData(1e19, 13, 10, 3, 32)]
    [InlineData(1e19, 9, 2500, 2, 33)]
    [InlineData(1e35, 7, 10, 1, 34)]
    [InlineData(3e38, 11, 40, 4, 35)]
    public void Geometric_median_weighs_rows_whose_distances_overflow_float_like_exact_weiszfeld(double scale, int n, int d, int far, int seed)
    {
        var rng = new Random(seed);
        var data = RandomRows(rng, n, d, scale: 1);
        for (int i = 0; i < far; i++)
        {
            data[2 * i] = RandomRows(rng, 1, d, scale: scale)[0];
        }

        var output = new float[d];
        var report = new GeometricMedian(tolerance: 1e-12, iterations: 100_000).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var expected = NaiveWeiszfeld(data, 1e-6, 1e-14, 100_000);
        Assert.True(Close(output, expected, 1e-5), $"dstar {string.Join(", ", output.Take(4))} vs naive {string.Join(", ", expected.Take(4))}");
        var withoutFar = NaiveWeiszfeld(data.Where((_, i) => i % 2 == 1 || i >= 2 * far).ToArray(), 1e-6, 1e-14, 100_000);
        Assert.False(Close(output, withoutFar, 1e-3), "the far rows should move the median");
        Assert.All(Enumerable.Range(0, far), i => Assert.True(report.Weights![2 * i] > 0));
        Assert.Equal(1, report.Weights!.Sum(), 1e-9);
    }

    [Fact]
    public void Geometric_median_of_rows_all_beyond_float_range_matches_exact_weiszfeld()
    {
        var rng = new Random(36);
        var data = RandomRows(rng, 5, 6, scale: 1e20);
        var output = new float[6];
        new GeometricMedian(tolerance: 1e-12, iterations: 100_000).Aggregate(GradientBatch.FromRows(data), new AggregationContext(2), output);
        var expected = NaiveWeiszfeld(data, 1e-6, 1e-14, 100_000);
        double gap = Norm(output.Select((v, j) => v - expected[j]));
        Assert.True(gap <= 1e-5 * Norm(expected.Select(v => 1e20)), $"‖dstar − naive‖ = {gap:E3}");
    }

    [Fact]
    public void Geometric_median_at_its_default_tolerance_is_first_order_optimal_with_rows_beyond_float_range()
    {
        var rng = new Random(37);
        int n = 15, d = 30;
        var data = RandomRows(rng, n, d, scale: 1);
        data[0] = RandomRows(rng, 1, d, scale: 1e19)[0];
        data[5] = RandomRows(rng, 1, d, scale: 1e25)[0];
        var output = new float[d];
        new GeometricMedian().Aggregate(GradientBatch.FromRows(data), new AggregationContext(2), output);
        // ‖Σᵢ (z − xᵢ)/‖z − xᵢ‖‖ / n, in double: 0 at the geometric median, and a far row counts as much as a near one.
        var gradient = new double[d];
        foreach (var x in data)
        {
            double r = Math.Max(1e-6, Math.Sqrt(Distance2(x, output)));
            for (int j = 0; j < d; j++)
            {
                gradient[j] += ((double)output[j] - x[j]) / r;
            }
        }

        Assert.True(Norm(gradient) / n <= 1e-4, $"residual {Norm(gradient) / n:E3}");
    }

    [Fact]
    public void Geometric_median_of_identical_rows_is_that_row()
    {
        var row = new[] { 1.5f, -2f, 3f };
        var output = new float[3];
        new GeometricMedian().Aggregate(GradientBatch.FromRows([row, row, row]), new AggregationContext(), output);
        Assert.Equal(row, output);
    }

    [Fact]
    public void Geometric_median_refuses_bad_parameters_a_byzantine_majority_and_reports_non_finite_rows()
    {
        Assert.Contains("nu=0", Assert.Throws<SpecException>(() => Registry.Rules.Create("geometric-median nu=0")).Message);
        Assert.Contains("iterations=0", Assert.Throws<SpecException>(() => Registry.Rules.Create("geometric-median iterations=0")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeometricMedian(tolerance: -1));
        var data = RandomRows(new Random(3), 4, 5);
        Assert.Contains("geometric-median needs n ≥ 2f+1 = 5, got n = 4 (f = 2)", Assert.Throws<AggregationException>(() => new GeometricMedian().Aggregate(GradientBatch.FromRows(data), new AggregationContext(2), new float[5])).Message);
        data[0][0] = float.NaN;
        var report = new GeometricMedian().Aggregate(GradientBatch.FromRows(data), new AggregationContext(1), new float[5]);
        Assert.Equal(new[] { 0 }, report.NonFiniteRows);
        Assert.Equal(0, report.Weights![0]);
        Assert.Equal(1, report.Weights.Sum(), 1e-9);
    }
}
