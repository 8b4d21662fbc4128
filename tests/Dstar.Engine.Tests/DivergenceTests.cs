using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests;

public class DivergenceTests
{
    [Fact]
    public async Task A_diverging_run_stops_at_its_last_finite_state_and_says_why()
    {
        // Plain averaging with 4 of 20 workers sending −100·μ steps uphill with a huge effective step: x overflows.
        var config = new ExperimentConfig
        {
            Seed = 2,
            Rounds = 400,
            EvalEvery = 50,
            Data = new DataConfig { Name = "synthetic-linear", Samples = 2000, Features = 10, ValidationSize = 100 },
            Model = "linreg",
            Workers = 20,
            K = 20,
            Byzantine = 4,
            Attack = "ipm epsilon=100",
            Aggregator = "mean",
            Delay = "constant",
            LearningRate = 0.5,
            BatchSize = 16,
            CheckpointEvery = 0,
        };
        using var sim = new Simulator(config);
        var directory = Scenarios.TemporaryDirectory();
        var summary = await sim.RunAsync(directory, plots: false);

        Assert.NotNull(summary);
        Assert.NotNull(summary.StoppedAtRound);
        Assert.True(summary.StoppedAtRound < config.Rounds);
        Assert.False(string.IsNullOrWhiteSpace(summary.StopReason));
        Assert.Equal(summary.StoppedAtRound, summary.Rounds);
        Assert.All(sim.Server.Parameters.ToArray(), x => Assert.True(float.IsFinite(x)));
        Assert.Equal(summary.StoppedAtRound, sim.Server.Version);

        var json = File.ReadAllText(Path.Combine(directory, "summary.json"));
        Assert.Contains("\"stopped_at_round\": " + summary.StoppedAtRound, json);
    }
}
