using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class DstarFilterTests
{
    /// <summary>Steps 4–7 of docs/method.md with plain loops in double: centre, deviations, filter, mean.</summary>
    private static (double[] Output, int[] Kept, double[] Deviations, double Reference) Naive(
        float[][] workers, float[]? g0, double tau, string center, string reference, bool includeValidation, double batchRatio,
        int[]? order = null, int bucket = 2)
    {
        int n = workers.Length, d = workers[0].Length;
        var m = new double[d];
        for (int j = 0; j < d; j++)
        {
            var column = Columns.Column(workers, j);
            m[j] = center switch
            {
                "median" => Columns.MedianOf(column.Append(g0![j]).ToArray()),
                "exclude-validation" => Columns.MedianOf(column),
                _ => Columns.MedianOf(order!.Chunk(bucket).Select(b => b.Average(i => column[i])).ToArray()),
            };
        }

        double Deviation(float[] x) => Math.Sqrt(Enumerable.Range(0, d).Sum(j => (x[j] - m[j]) * (x[j] - m[j])));
        var deviations = workers.Select(Deviation).ToArray();
        double delta = reference == "validation" ? Deviation(g0!) * Math.Sqrt(batchRatio) : Columns.MedianOf(deviations);
        var kept = Enumerable.Range(0, n).Where(i => deviations[i] <= tau * delta).ToArray();
        var voters = kept.Select(i => workers[i]).ToList();
        if (includeValidation)
        {
            voters.Add(g0!);
        }

        var output = kept.Length == 0
            ? g0!.Select(v => (double)v).ToArray()
            : Enumerable.Range(0, d).Select(j => voters.Average(r => (double)r[j])).ToArray();
        return (output, kept, deviations, delta);
    }

    [Property(MaxTest = 60)]
    public Property Dstar_equals_the_naive_filter(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var workers = Columns.Grid(rng, n, d);
        var g0 = Columns.Grid(rng, 1, d)[0];
        double tau = new[] { 0.5, 1, 1.2, 2, 5 }[rng.Next(5)];
        string center = rng.Next(2) == 0 ? "median" : "exclude-validation";
        string reference = rng.Next(2) == 0 ? "validation" : "median-deviation";
        bool include = rng.Next(2) == 0;
        double ratio = rng.Next(2) == 0 ? 1 : 2;
        var rule = Registry.Rules.Create($"dstar tau={tau} center={center} reference={reference} include-validation={include} batch-ratio={ratio}");
        var output = new float[d];
        var report = rule.Aggregate(GradientBatch.FromRows(workers), new AggregationContext { ValidationGradient = g0 }, output);
        var expected = Naive(workers, g0, tau, center, reference, include, ratio);
        if (expected.Deviations.Any(x => Math.Abs(x - tau * expected.Reference) <= 1e-6 * (1 + x)))
        {
            return true.ToProperty(); // a row on the threshold may fall either way in float
        }

        bool scoresMatch = Enumerable.Range(0, n).All(i =>
        {
            // δ_ref can be exactly 0 (g₀ is the median itself); then every other row scores +∞.
            double want = expected.Deviations[i] == 0 ? 0 : expected.Deviations[i] / expected.Reference;
            double got = report.Scores![i];
            return double.IsInfinity(want) ? got == want : Math.Abs(got - want) <= 1e-5 * (1 + want);
        });
        return (report.Kept.SequenceEqual(expected.Kept) && scoresMatch && Columns.AllClose(output, j => expected.Output[j], 1e-4)).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Dstar_drops_huge_rows_and_stays_within_the_honest_rows(int a, int b, int seed)
    {
        var rng = new Random(seed);
        int honest = Math.Abs(a % 20) + 3, d = Math.Abs(b % 200) + 1;
        int f = rng.Next(honest / 2 + 1);
        var mu = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var rows = Columns.Gaussian(rng, honest, mu, 1).ToList();
        var byzantine = new List<int>();
        for (int i = 0; i < f; i++)
        {
            int at = rng.Next(rows.Count + 1);
            rows.Insert(at, Enumerable.Repeat(rng.Next(2) == 0 ? 1e30f : -1e30f, d).ToArray());
        }

        for (int i = 0; i < rows.Count; i++)
        {
            if (Math.Abs(rows[i][0]) > 1e29)
            {
                byzantine.Add(i);
            }
        }

        var g0 = Columns.Gaussian(rng, 1, mu, 1)[0];
        var output = new float[d];
        var report = new DstarFilter().Aggregate(GradientBatch.FromRows(rows), new AggregationContext(f) { ValidationGradient = g0 }, output);
        var honestRows = rows.Where(r => Math.Abs(r[0]) < 1e29).Append(g0).ToArray();
        bool inBox = Enumerable.Range(0, d).All(j => output[j] >= honestRows.Min(r => r[j]) - 1e-4 && output[j] <= honestRows.Max(r => r[j]) + 1e-4);
        return (inBox && !report.Kept.Intersect(byzantine).Any() && byzantine.All(i => report.Scores![i] > 1e20)).ToProperty();
    }

    [Fact]
    public void Dstar_keeps_every_honest_row_when_the_byzantine_rows_are_far()
    {
        var rng = new Random(11);
        int d = 500;
        var mu = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var rows = Columns.Gaussian(rng, 12, mu, 0.5).ToList();
        rows.AddRange(Enumerable.Range(0, 3).Select(_ => mu.Select(v => -100 * v).ToArray()));
        var g0 = Columns.Gaussian(rng, 1, mu, 0.5)[0];
        var output = new float[d];
        var report = new DstarFilter().Aggregate(GradientBatch.FromRows(rows), new AggregationContext(3) { ValidationGradient = g0 }, output);
        Assert.Equal(Enumerable.Range(0, 12), report.Kept);
        Assert.All(Enumerable.Range(0, 12), i => Assert.InRange(report.Scores![i], 0.5, 2));
        Assert.All(Enumerable.Range(12, 3), i => Assert.True(report.Scores![i] > 2));
        Assert.All(Enumerable.Range(0, 15), i => Assert.Equal(i < 12 ? 1.0 / 12 : 0, report.Weights![i], 12));
    }

    [Fact]
    public void Dstar_falls_back_to_the_validation_gradient_when_nothing_passes()
    {
        var batch = GradientBatch.FromRows([[10f, 0f], [0f, 10f], [-10f, 0f]]);
        var g0 = new[] { 0f, 0f };
        var output = new float[2];
        // Median of the rows and g₀ is (0, 0) = g₀, so δ₀ = 0 and only a row at the median could pass.
        var report = new DstarFilter().Aggregate(batch, new AggregationContext { ValidationGradient = g0 }, output);
        Assert.Empty(report.Kept);
        Assert.Equal(g0, output);
    }

    [Fact]
    public void Dstar_refuses_to_run_without_the_validation_gradient_it_needs()
    {
        var batch = GradientBatch.FromRows([[1f], [2f], [3f]]);
        foreach (var spec in new[] { "dstar", "dstar center=exclude-validation", "dstar center=median-of-means reference=median-deviation include-validation=true" })
        {
            var error = Assert.Throws<AggregationException>(() => Registry.Rules.Create(spec).Aggregate(batch, new AggregationContext(), new float[1]));
            Assert.Contains("needs the server's validation gradient g₀, got none", error.Message);
            Assert.DoesNotContain("Context", error.Message); // a user's message, not the API's property name
        }
    }

    [Fact]
    public void Dstar_without_validation_gradient_runs_on_the_worker_median_and_fails_clearly_when_nothing_passes()
    {
        var rule = Registry.Rules.Create("dstar center=exclude-validation reference=median-deviation");
        var output = new float[1];
        var report = rule.Aggregate(GradientBatch.FromRows([[1f], [2f], [3f], [100f]]), new AggregationContext(), output);
        Assert.Equal(new[] { 0, 1, 2 }, report.Kept);
        Assert.Equal(2f, output[0]);
        var tight = Registry.Rules.Create("dstar center=exclude-validation reference=median-deviation tau=0.1");
        var error = Assert.Throws<AggregationException>(() => tight.Aggregate(GradientBatch.FromRows([[1f], [2f], [4f], [8f]]), new AggregationContext(), output));
        Assert.Contains("no validation gradient", error.Message);
    }

    [Fact]
    public void Dstar_refuses_a_validation_gradient_of_the_wrong_length_or_with_nan()
    {
        var batch = GradientBatch.FromRows([[1f, 2f], [2f, 3f]]);
        var wrong = Assert.Throws<AggregationException>(() => new DstarFilter().Aggregate(batch, new AggregationContext { ValidationGradient = [1f] }, new float[2]));
        Assert.Contains("validation gradient has 1 values, expected d = 2", wrong.Message);
        var nan = Assert.Throws<AggregationException>(() => new DstarFilter().Aggregate(batch, new AggregationContext { ValidationGradient = [float.NaN, 1f] }, new float[2]));
        Assert.Contains("non-finite", nan.Message);
    }

    [Theory]
    [InlineData("dstar tau=0", "tau=0")]
    [InlineData("dstar tau=-1", "tau=-1")]
    [InlineData("dstar center=mean", "center=mean")]
    [InlineData("dstar reference=self", "reference=self")]
    [InlineData("dstar batch-ratio=0", "batch-ratio=0")]
    [InlineData("dstar bucket=0", "bucket=0")]
    [InlineData("dstar include-validation=maybe", "include-validation=maybe")]
    [InlineData("dstar threshold=2", "threshold")]
    public void Dstar_spec_refuses_bad_options(string spec, string named)
    {
        var error = Assert.Throws<SpecException>(() => Registry.Rules.Create(spec));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Dstar_drops_and_reports_non_finite_rows()
    {
        var batch = GradientBatch.FromRows([[1f, 1f], [float.NaN, 0f], [1.2f, 0.8f], [0.9f, float.PositiveInfinity], [1.1f, 1.1f]]);
        var output = new float[2];
        var report = new DstarFilter(tau: 100).Aggregate(batch, new AggregationContext { ValidationGradient = [1f, 1f] }, output);
        Assert.Equal(new[] { 1, 3 }, report.NonFiniteRows);
        Assert.Equal(new[] { 0, 2, 4 }, report.Kept);
        Assert.True(double.IsNaN(report.Scores![1]) && double.IsNaN(report.Scores[3]));
        Assert.Equal(1.1f, output[0], 5);
        Assert.Equal(0.9666667f, output[1], 5);
    }

    [Property(MaxTest = 30)]
    public Property Dstar_median_of_means_matches_the_naive_one_for_the_same_seed(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var workers = Columns.Grid(rng, n, d);
        int bucket = rng.Next(1, 5);
        var rule = Registry.Rules.Create($"dstar center=median-of-means bucket={bucket} reference=median-deviation tau=1");
        var output = new float[d];
        var report = rule.Aggregate(GradientBatch.FromRows(workers), new AggregationContext(0, new Random(seed)), output);
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var expected = Naive(workers, null, 1, "median-of-means", "median-deviation", false, 1, order, bucket);
        if (expected.Deviations.Any(x => Math.Abs(x - expected.Reference) <= 1e-6 * (1 + x)) && expected.Kept.Length != report.Kept.Count)
        {
            return true.ToProperty();
        }

        return (report.Kept.SequenceEqual(expected.Kept) && Columns.AllClose(output, j => expected.Output[j], 1e-4)).ToProperty();
    }

    [Fact]
    public void Dstar_median_of_means_is_deterministic_for_a_seed()
    {
        var data = Columns.Grid(new Random(3), 15, 64);
        float[] Run(int seed)
        {
            var output = new float[64];
            Registry.Rules.Create("dstar center=median-of-means bucket=3 reference=median-deviation")
                .Aggregate(GradientBatch.FromRows(data), new AggregationContext(0, new Random(seed)), output);
            return output;
        }

        Assert.Equal(Run(7), Run(7));
    }

    [Fact]
    public void Dstar_gives_the_same_result_on_two_threads()
    {
        var rng = new Random(4);
        int d = 50_000;
        var mu = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var rows = Columns.Gaussian(rng, 9, mu, 1);
        var g0 = Columns.Gaussian(rng, 1, mu, 1)[0];
        var one = new float[d];
        var two = new float[d];
        var r1 = new DstarFilter().Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0 }, one);
        var r2 = new DstarFilter().Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0, MaxDegreeOfParallelism = 2 }, two);
        Assert.Equal(r1.Kept, r2.Kept);
        Assert.Equal(one, two);
    }
}
