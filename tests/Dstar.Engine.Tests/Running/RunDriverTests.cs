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

    [Fact]
    public async Task A_resume_with_no_round_left_finishes_without_waiting_for_a_first_round()
    {
        // The cluster waits for its workers before the first round; at the last round there is none to wait for, and
        // the workers of the run have already finished.
        var directory = Scenarios.TemporaryDirectory();
        var config = Scenarios.Logistic(rounds: 4) with { CheckpointEvery = 2 };
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            await sim.RunAsync(new RunOptions { Directory = directory, Plots = false });
        }

        Assert.Equal(4, CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName)).Round);
        var waited = false;
        using var again = new Simulator(config, overrides: Uniform);
        var result = await again.RunAsync(new RunOptions
        {
            Directory = directory,
            Mode = RunDirectoryMode.Resume,
            Plots = false,
            BeforeFirstRoundAsync = _ =>
            {
                waited = true;
                return Task.CompletedTask;
            },
        });

        Assert.Equal(RunEnd.Finished, result.End);
        Assert.Equal(4, result.Rounds);
        Assert.False(waited);
    }
}
