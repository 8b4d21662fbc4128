using Dstar.Engine.Checkpoints;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests.Running;

public class RunDriverTests
{
    private static readonly SimulatorOverrides Uniform = new() { Delay = new UniformDelay() };

    [Fact]
    public async Task Driver_checkpoints_the_last_round_even_without_periodic_checkpoints()
    {
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(Scenarios.Logistic(rounds: 4) with { CheckpointEvery = 0 }, overrides: Uniform);
        var result = await sim.RunAsync(new RunOptions { Directory = directory, Plots = false });
        Assert.Equal(RunEnd.Finished, result.End);
        Assert.Equal(4, CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName)).Round);
        Assert.False(File.Exists(Path.Combine(directory, CheckpointFile.FileName + ".previous")));
    }

    [Fact]
    public async Task Cancelled_run_checkpoints_its_last_completed_round_and_resumes_to_the_same_metrics()
    {
        var config = Scenarios.Logistic(rounds: 10) with { CheckpointEvery = 0 };
        var whole = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            await sim.RunAsync(whole, plots: false);
        }

        var directory = Scenarios.TemporaryDirectory();
        using var cancel = new CancellationTokenSource();
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            var result = await sim.RunAsync(new RunOptions
            {
                Directory = directory,
                Plots = false,
                AfterRound = round =>
                {
                    if (round.Round == 5)
                    {
                        cancel.Cancel();
                    }
                },
            }, cancel.Token);
            Assert.Equal(RunEnd.Interrupted, result.End);
            Assert.Null(result.Summary);
            Assert.Equal(6, result.Rounds);
        }

        Assert.Equal(6, CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName)).Round);
        Assert.False(File.Exists(Path.Combine(directory, "summary.json")));
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            var result = await sim.RunAsync(new RunOptions { Directory = directory, Mode = RunDirectoryMode.Resume, Plots = false });
            Assert.Equal(RunEnd.Finished, result.End);
        }

        Assert.Equal(Scenarios.MetricsWithoutWallTime(whole), Scenarios.MetricsWithoutWallTime(directory));
    }

    [Fact]
    public async Task Hooks_run_around_every_round_in_order()
    {
        var calls = new List<string>();
        using var sim = new Simulator(Scenarios.Logistic(rounds: 3), overrides: Uniform);
        await sim.RunAsync(new RunOptions
        {
            BeforeFirstRoundAsync = _ =>
            {
                calls.Add("start");
                return Task.CompletedTask;
            },
            BeforeRound = t => calls.Add($"before {t}"),
            AfterRound = round => calls.Add($"after {round.Round}"),
        });
        Assert.Equal(["start", "before 0", "after 0", "before 1", "after 1", "before 2", "after 2"], calls);
    }
}
