using Dstar.Core.Aggregation;
using Dstar.Core.Attacks;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

public class OptimalAttackTests
{
    /// <summary>A naive coordinate-wise median, so that the damage is not monotone in z.</summary>
    private sealed class NaiveMedian : IAggregator
    {
        public string Name => "test-median";

        public string? CheckRequirements(int n, int f, bool hasValidationGradient) => null;

        public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
        {
            var rows = Enumerable.Range(0, batch.Count).Select(i => batch.Row(i).ToArray()).ToArray();
            var median = Reference.Median(rows);
            for (int j = 0; j < output.Length; j++)
            {
                output[j] = (float)median[j];
            }

            return AggregationReport.All(Name, batch.Count);
        }
    }

    /// <summary>Changes its input in place, as NNM or clipping may: the attack must hand the pipeline a copy.</summary>
    private sealed class Vandal : IPreAggregator
    {
        public string Name => "vandal";

        public GradientBatch Apply(GradientBatch batch, AggregationContext context)
        {
            batch.Row(0).Fill(1000f);
            return batch;
        }
    }

    private static double Damage(AggregationPipeline pipeline, float[][] honest, float[] b, int copies)
    {
        var rows = honest.Concat(Enumerable.Repeat(b, copies)).Select(r => (float[])r.Clone()).ToArray();
        var output = new float[b.Length];
        pipeline.Aggregate(GradientBatch.FromRows(rows), new AggregationContext(copies), output);
        return Reference.Distance(output, Reference.Mean(honest));
    }

    private static float[] CraftOne(IAttack attack, float[][] honest, int f, AggregationPipeline? pipeline)
    {
        var byzantine = Reference.Empty(f, honest[0].Length);
        attack.Craft(Reference.Batch(honest), new AttackContext(honest.Length + f, f, new Random(2)) { Pipeline = pipeline }, byzantine);
        return byzantine.Row(0).ToArray();
    }

    [Fact]
    public void Optimal_ipm_through_the_mean_finds_a_large_epsilon_and_beats_plain_ipm()
    {
        // Through the mean, agg − μ = −f(1 + ε)μ/n grows with ε, so the search must end at the top of its range.
        var honest = Reference.Rows(6, 20, seed: 4);
        var pipeline = new AggregationPipeline(new Mean());
        var attack = new OptimalInnerProductManipulation();
        var b = CraftOne(attack, honest, 3, pipeline);
        Assert.True(attack.LastEpsilon > 50, $"ε = {attack.LastEpsilon}");
        var plain = CraftOne(new InnerProductManipulation(0.1), honest, 3, null);
        double optimalDamage = Damage(pipeline, honest, b, 3);
        Assert.True(optimalDamage > 10 * Damage(pipeline, honest, plain, 3));
        Assert.Equal(attack.LastDamage, optimalDamage, 3);
        Reference.AssertClose(Reference.Mean(honest).Select(m => -attack.LastEpsilon * m).ToArray(), b, 1e-4);
    }

    [Fact]
    public void Optimal_alie_does_at_least_as_much_damage_as_every_grid_point()
    {
        var honest = Reference.Rows(7, 15, seed: 9);
        var pipeline = new AggregationPipeline(new NaiveMedian());
        var attack = new OptimalAlie();
        var b = CraftOne(attack, honest, 4, pipeline);
        double achieved = Damage(pipeline, honest, b, 4);
        Assert.Equal(attack.LastDamage, achieved, 4);
        var mean = Reference.Mean(honest);
        var sigma = Reference.Deviation(honest);
        for (int i = 0; i <= 20; i++)
        {
            double z = i * 0.5;
            var candidate = mean.Select((m, j) => (float)(m - z * sigma[j])).ToArray();
            Assert.True(achieved >= Damage(pipeline, honest, candidate, 4) - 1e-6, $"z = {z} does more damage than the chosen z = {attack.LastZ}");
        }

        Assert.InRange(attack.LastZ, 0, 10);
    }

    [Fact]
    public void Optimal_attacks_give_the_pipeline_a_copy_and_leave_the_honest_rows_alone()
    {
        var honest = Reference.Rows(5, 8, seed: 1);
        var batch = Reference.Batch(honest);
        var before = batch.AsSpan().ToArray();
        var pipeline = new AggregationPipeline(new Mean(), [new Vandal()]);
        foreach (var attack in new IAttack[] { new OptimalAlie(), new OptimalInnerProductManipulation() })
        {
            attack.Craft(batch, new AttackContext(7, 2, new Random(1)) { Pipeline = pipeline }, Reference.Empty(2, 8));
            Assert.Equal(before, batch.AsSpan().ToArray());
        }

        // Had the vandalised copy been reused, the damage of ε would depend on the evaluation order.
        var ipm = new OptimalInnerProductManipulation();
        var b = CraftOne(ipm, honest, 2, pipeline);
        Assert.Equal(ipm.LastDamage, Damage(pipeline, honest, b, 2), 3);
    }

    [Fact]
    public void Optimal_attacks_refuse_to_run_without_a_pipeline()
    {
        var honest = Reference.Rows(5, 3, seed: 1);
        foreach (var attack in new IAttack[] { new OptimalAlie(), new OptimalInnerProductManipulation() })
        {
            var e = Assert.Throws<AttackException>(() => CraftOne(attack, honest, 2, null));
            Assert.Contains(attack.Name, e.Message);
            Assert.Contains("Pipeline", e.Message);
        }
    }

    [Fact]
    public void A_pipeline_that_refuses_the_round_is_reported_with_the_attack_name()
    {
        var honest = Reference.Rows(3, 3, seed: 1);
        var pipeline = new AggregationPipeline(new Mean());
        var e = Assert.Throws<AttackException>(() => CraftOne(new OptimalInnerProductManipulation(), honest.Select(r => r.Select(_ => float.NaN).ToArray()).ToArray(), 1, pipeline));
        Assert.Contains("optimal-ipm", e.Message);
        Assert.Contains("mean", e.Message);
    }
}
