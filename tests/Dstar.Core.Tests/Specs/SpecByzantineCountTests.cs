using Dstar.Core.Specs;
using Xunit;

namespace Dstar.Core.Tests.Specs;

/// <summary>
/// A rule whose spec names its own f (<c>krum f=3</c>) must check that f up front, as it will aggregate with it:
/// the engine validates a config with CheckRequirements(n, the run's f) before round 1.
/// </summary>
public class SpecByzantineCountTests
{
    [Theory]
    [InlineData("krum f=5", 9)]
    [InlineData("multi-krum f=5", 9)]
    [InlineData("bulyan f=3", 11)]
    [InlineData("mda f=4", 7)]
    [InlineData("trimmed-mean f=5", 9)]
    [InlineData("meamed f=9", 9)]
    public void The_spec_f_not_the_run_f_decides_whether_a_rule_can_run(string spec, int n)
    {
        var rule = Registry.Rules.Create(spec);
        var why = rule.CheckRequirements(n, 1, hasValidationGradient: true);
        Assert.NotNull(why);
        Assert.Contains(rule.Name, why);

        // And Aggregate refuses the same batch with the same reason.
        var batch = GradientBatch.FromRows(Columns.Grid(new Random(n), n, 8));
        var e = Assert.Throws<AggregationException>(() => rule.Aggregate(batch, new AggregationContext(1), new float[8]));
        Assert.Contains(why, e.Message);
    }
}

/// <summary>Rules read their batch and never change it (the optimal attacks' searches rely on it).</summary>
public class RulesLeaveTheirInputTests
{
    [Fact]
    public void Every_rule_leaves_its_batch_exactly_as_it_was()
    {
        var rng = new Random(4);
        var rows = Columns.Grid(rng, 15, 40);
        rows[3][7] = float.NaN; // the non-finite path too
        var g0 = Columns.Grid(rng, 1, 40)[0];
        foreach (var name in Registry.Rules.Names)
        {
            var batch = GradientBatch.FromRows(rows);
            var before = batch.AsSpan().ToArray();
            var context = new AggregationContext(2, new Random(1))
            {
                ValidationGradient = g0,
                PreviousAggregate = g0,
                Parameters = new float[40],
                ValidationLoss = y => Dstar.Core.Kernels.RowDeviations.Exact(y, default),
            };
            Registry.Rules.Create(name).Aggregate(batch, context, new float[40]);
            Assert.True(before.AsSpan().SequenceEqual(batch.AsSpan()), $"{name} changed its input");
        }
    }
}
