using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace Dstar.Engine.Tests;

/// <summary>
/// End-to-end training on synthetic problems with 4 fast Byzantine workers among N = 20, k = 15: dSTAR against the
/// attacks docs/method.md says it withstands, and plain averaging where it breaks.
/// </summary>
[Trait("Category", "EndToEnd")]
public class RobustnessTests(ITestOutputHelper output)
{
    private static ExperimentConfig Logistic(string aggregator, string? attack) => new()
    {
        Seed = 11,
        Rounds = 120,
        EvalEvery = 20,
        Data = new DataConfig { Name = "synthetic-logistic", Samples = 4000, Features = 10, ValidationSize = 500 },
        Model = "logreg",
        Workers = 20,
        K = 15,
        Byzantine = attack is null ? 0 : 4,
        Attack = attack,
        AttackTiming = "fast",
        Aggregator = aggregator,
        Delay = "shifted-exp",
        LearningRate = 0.5,
        BatchSize = 32,
        CheckpointEvery = 0,
    };

    private async Task<double> FinalAccuracy(ExperimentConfig config)
    {
        using var sim = new Simulator(config);
        var summary = await sim.RunAsync(directory: null);
        output.WriteLine($"{config.Aggregator} under {config.Attack ?? "no attack"}: final accuracy {summary!.FinalAccuracy:F4}, Byzantine kept {summary.ByzantineKept}");
        return summary.FinalAccuracy!.Value;
    }

    [Theory]
    [InlineData("alie")]
    [InlineData("ipm epsilon=0.1")]
    [InlineData("ipm epsilon=100")]
    [InlineData("sign-flip")]
    public async Task Dstar_keeps_accuracy_near_the_clean_run_under_fast_attacks(string attack)
    {
        var clean = await FinalAccuracy(Logistic("dstar", null));
        var attacked = await FinalAccuracy(Logistic("dstar", attack));
        Assert.True(clean > 0.8, $"the clean run should learn (accuracy {clean})");
        Assert.True(attacked >= clean - 0.03, $"dSTAR under {attack}: accuracy {attacked}, clean {clean}");
    }

    [Fact]
    public async Task Mean_visibly_fails_under_IPM_with_epsilon_100_where_dstar_does_not()
    {
        var mean = await FinalAccuracy(Logistic("mean", "ipm epsilon=100"));
        var dstar = await FinalAccuracy(Logistic("dstar", "ipm epsilon=100"));
        var clean = await FinalAccuracy(Logistic("mean", null));
        Assert.True(mean < clean - 0.2, $"mean under IPM ε=100: accuracy {mean}, clean {clean}");
        Assert.True(dstar > mean + 0.2, $"dSTAR {dstar} should clearly beat mean {mean}");
    }
}
