using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using static Dstar.Core.Tests.PairwiseReference;

namespace Dstar.Core.Tests.Aggregation;

public class MdaTests
{
    private static IEnumerable<int[]> Subsets(int n, int size, int start = 0)
    {
        if (size == 0)
        {
            yield return Array.Empty<int>();
            yield break;
        }

        for (int i = start; i <= n - size; i++)
        {
            foreach (var rest in Subsets(n, size - 1, i + 1))
            {
                yield return rest.Prepend(i).ToArray();
            }
        }
    }

    private static double Diameter(float[][] data, int[] subset) =>
        subset.SelectMany(i => subset.Select(j => Distance2(data[i], data[j]))).DefaultIfEmpty(0).Max();

    [Property(MaxTest = 40)]
    public Property Mda_finds_the_minimum_diameter_subset_of_a_brute_force_search(int seed)
    {
        var rng = new Random(seed);
        var (n, d) = Shape(rng, 1, 12);
        int f = rng.Next(0, (n - 1) / 2 + 1);
        var data = RandomRows(rng, n, d);
        var output = new float[d];
        var report = new Mda(f).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        var diameters = Subsets(n, n - f).Select(s => (Subset: s, Diameter: Diameter(data, s))).OrderBy(p => p.Diameter).ToArray();
        var best = diameters[0];
        bool nearTie = diameters.Length > 1 && diameters[1].Diameter - best.Diameter <= 1e-5 * best.Diameter;
        bool ok = report.Kept.Count == n - f
            && Diameter(data, report.Kept.ToArray()) <= best.Diameter * (1 + 1e-5)
            && (nearTie || (report.Kept.SequenceEqual(best.Subset) && Close(output, Mean(best.Subset.Select(i => data[i])), 1e-5)));
        return ok.ToProperty();
    }

    [Fact]
    public void Mda_drops_f_far_rows()
    {
        var data = RandomRows(new Random(3), 9, 30, scale: 1);
        data[2] = RandomRows(new Random(4), 1, 30, scale: 1, offset: 50)[0];
        data[6] = Enumerable.Repeat(-1e30f, 30).ToArray();
        var output = new float[30];
        var report = new Mda(2).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), output);
        Assert.Equal(new[] { 0, 1, 3, 4, 5, 7, 8 }, report.Kept);
        Assert.True(Close(output, Mean(report.Kept.Select(i => data[i])), 1e-5));
    }

    [Fact]
    public void Mda_refuses_too_many_subsets_and_a_byzantine_majority()
    {
        var batch = GradientBatch.FromRows(RandomRows(new Random(1), 20, 3));
        var error = Assert.Throws<AggregationException>(() => Registry.Rules.Create("mda f=9 max-subsets=1000").Aggregate(batch, new AggregationContext(), new float[3]));
        Assert.Contains("mda would examine C(20, 9) > 1000 subsets", error.Message);
        Assert.Contains("mda needs n ≥ 2f+1 = 21, got n = 20", Assert.Throws<AggregationException>(() => new Mda().Aggregate(batch, new AggregationContext(10), new float[3])).Message);
        Assert.Null(new Mda(maxSubsets: 167_960).CheckRequirements(20, 9, false));
        Assert.NotNull(new Mda(maxSubsets: 167_959).CheckRequirements(20, 9, false));
        Assert.Equal(184_756, Mda.Binomial(20, 10, long.MaxValue));
        Assert.Equal(1001, Mda.Binomial(20, 10, 1000));
    }

    [Fact]
    public void Mda_drops_and_reports_non_finite_rows()
    {
        var data = RandomRows(new Random(5), 6, 4);
        data[5][2] = float.NaN;
        var report = new Mda(1).Aggregate(GradientBatch.FromRows(data), new AggregationContext(), new float[4]);
        Assert.Equal(new[] { 5 }, report.NonFiniteRows);
        Assert.Equal(4, report.Kept.Count);
    }
}
