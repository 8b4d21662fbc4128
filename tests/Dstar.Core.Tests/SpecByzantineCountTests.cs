using Dstar.Core.Specs;
using Xunit;

namespace Dstar.Core.Tests;

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
