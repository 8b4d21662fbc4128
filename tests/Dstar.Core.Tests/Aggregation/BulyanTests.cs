using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class BulyanTests
{
    private static (double[] Output, int[] Picked, bool NearTie) Naive(float[][] data, int f)
    {
        int n = data.Length, theta = n - 2 * f, beta = theta - 2 * f;
        var remaining = Enumerable.Range(0, n).ToList();
        var picked = new List<int>();
        bool nearTie = false;
        while (picked.Count < theta)
        {
            var scores = KrumScores(data, remaining, remaining.Count - f - 2);
            var sorted = scores.OrderBy(x => x).ToArray();
            nearTie |= sorted.Length > 1 && sorted[1] - sorted[0] <= 1e-5 * sorted[1];
            int best = Array.IndexOf(scores, scores.Min());
            picked.Add(remaining[best]);
            remaining.RemoveAt(best);
        }

        var output = new double[data[0].Length];
        for (int j = 0; j < output.Length; j++)
        {
            var column = picked.Select(i => (double)data[i][j]).OrderBy(v => v).ToArray();
            double median = theta % 2 == 1 ? column[theta / 2] : (column[theta / 2 - 1] + column[theta / 2]) / 2;
            output[j] = column.OrderBy(v => Math.Abs(v - median)).ThenBy(v => v).Take(beta).Average();
        }

        return (output, picked.OrderBy(i => i).ToArray(), nearTie);
    }

    [Property(MaxTest = 40)]
    public Property Bulyan_matches_the_naive_repeated_krum_and_trimmed_median(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 3, 20);
        int f = rng.Next(0, (n - 3) / 4 + 1);
        var data = RandomRows(rng, n, d);
        var output = new float[d];
        var report = new Bulyan(f).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var (expected, picked, nearTie) = Naive(data, f);
        return (nearTie || (report.Kept.SequenceEqual(picked) && Close(output, expected, 1e-5))).ToProperty();
    }

    [Fact]
    public void Bulyan_stays_in_the_honest_bounding_box_with_f_huge_rows()
    {
        var rng = new Random(12);
        int n = 15, f = 3, d = 64;
        var data = RandomRows(rng, n, d, scale: 1);
        data[1] = Enumerable.Repeat(1e7f, d).ToArray();
        data[5] = Enumerable.Repeat(-1e30f, d).ToArray();
        data[9] = RandomRows(rng, 1, d, scale: 1e4)[0];
        var output = new float[d];
        var report = new Bulyan(f).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var honest = data.Where((_, i) => i is not (1 or 5 or 9)).ToArray();
        for (int j = 0; j < d; j++)
        {
            Assert.InRange(output[j], honest.Min(r => r[j]), honest.Max(r => r[j]));
        }

        Assert.Equal(n - 2 * f, report.Kept.Count);
    }

    [Fact]
    public void Bulyan_refuses_n_below_4f_plus_3_and_reports_dropped_rows()
    {
        var data = RandomRows(new Random(1), 10, 3);
        var batch = GradientBatch.FromRows(data);
        Assert.Contains("bulyan needs n ≥ 4f+3 = 11, got n = 10", Assert.Throws<AggregationException>(() => new Bulyan().Aggregate(batch, new AggregationContext(2), new float[3])).Message);
        data[4][0] = float.NaN;
        var error = Assert.Throws<AggregationException>(() => Registry.Rules.Create("bulyan f=1").Aggregate(GradientBatch.FromRows(data.Take(7).ToArray()), new AggregationContext(), new float[3]));
        Assert.Contains("bulyan needs n ≥ 4f+3 = 7, got n = 6", error.Message);
        var report = new Bulyan(1).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), new float[3]);
        Assert.Equal(new[] { 4 }, report.NonFiniteRows);
        Assert.DoesNotContain(4, report.Kept);
    }
}
