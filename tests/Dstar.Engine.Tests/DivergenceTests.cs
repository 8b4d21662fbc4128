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

    [Fact]
    public async Task An_attack_that_cannot_craft_mid_run_ends_the_run_with_a_summary_that_says_why()
    {
        // As optimal-ipm does once the honest gradients overflow: the run ends like a diverged one, not as a crash.
        var config = Scenarios.Logistic(rounds: 10) with { Byzantine = 2, Attack = "sign-flip", CheckpointEvery = 0 };
        using var sim = new Simulator(config, overrides: new SimulatorOverrides { Delay = new UniformDelay(), Attack = new FailingAttack(failAtCall: 4) });
        var directory = Scenarios.TemporaryDirectory();
        var summary = await sim.RunAsync(directory, plots: false);

        Assert.NotNull(summary);
        Assert.InRange(summary.StoppedAtRound!.Value, 3, 9); // the fourth round with Byzantine rows among the first k
        Assert.Contains("cannot craft from these gradients", summary.StopReason);
        Assert.Equal(summary.StoppedAtRound, File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")).Length);
        Assert.Contains($"\"stopped_at_round\": {summary.StoppedAtRound}", File.ReadAllText(Path.Combine(directory, "summary.json")));
    }

    private sealed class FailingAttack(int failAtCall) : Dstar.Core.Attacks.IAttack
    {
        private int _calls;

        public string Name => "failing";

        public bool IsOmniscient => true;

        public void Craft(Dstar.Core.GradientBatch honest, Dstar.Core.Attacks.AttackContext context, Dstar.Core.GradientBatch byzantine)
        {
            if (++_calls == failAtCall)
            {
                throw new Dstar.Core.Attacks.AttackException("failing: cannot craft from these gradients");
            }

            for (int b = 0; b < byzantine.Count; b++)
            {
                honest.Row(0).CopyTo(byzantine.Row(b));
            }
        }
    }
}
