using Dstar.Engine.Checkpoints;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests.Running;

public class RunDirectoryTests
{
    private static readonly SimulatorOverrides Uniform = new() { Delay = new UniformDelay() };

    private static async Task<string> Finished(Dstar.Engine.Configuration.ExperimentConfig config)
    {
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(config, overrides: Uniform);
        await sim.RunAsync(directory, plots: false);
        return directory;
    }

    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public async Task New_run_on_a_finished_run_is_refused_and_changes_no_file()
    {
        var config = Scenarios.Logistic(rounds: 4) with { CheckpointEvery = 2 };
        var directory = await Finished(config);
        Assert.Equal(RunStateFile.Finished, RunStateFile.TryRead(directory)!.State);
        var before = Snapshot(directory);

        using var sim = new Simulator(config, overrides: Uniform);
        var e = await Assert.ThrowsAsync<IOException>(() => sim.RunAsync(directory, plots: false));
        Assert.Contains("already holds a run (finished)", e.Message);
        Assert.Contains("--overwrite", e.Message);
        Assert.Equal(before, Snapshot(directory));
    }

    [Fact]
    public async Task Set_aside_inside_moves_every_file_into_a_sub_folder_intact_and_frees_the_directory()
    {
        var config = Scenarios.Logistic(rounds: 4) with { CheckpointEvery = 2 };
        var directory = await Finished(config);
        var before = Snapshot(directory);
        Directory.CreateDirectory(Path.Combine(directory, "lost+found"));
        var checkpoints = Directory.CreateDirectory(Path.Combine(directory, "ckpt")).FullName;

        var aside = RunDirectory.SetAsideInside(directory, checkpoints);
        Assert.Equal(directory, Path.GetDirectoryName(aside));
        Assert.StartsWith(RunDirectory.SetAsidePrefix, Path.GetFileName(aside));
        Assert.Equal(before, Snapshot(aside));
        Assert.False(RunDirectory.HoldsRun(directory));
        Assert.True(Directory.Exists(Path.Combine(directory, "lost+found")) && Directory.Exists(checkpoints));

        // A second set-aside leaves the first folder where it is.
        await new Simulator(config, overrides: Uniform).RunAsync(directory, plots: false);
        var second = RunDirectory.SetAsideInside(directory, checkpoints);
        Assert.NotEqual(aside, second);
        Assert.Equal(before, Snapshot(aside));
        Assert.False(RunDirectory.HoldsRun(directory));
    }

    [Fact]
    public async Task Overwrite_moves_the_old_run_aside_intact()
    {
        var config = Scenarios.Logistic(rounds: 3);
        var directory = await Finished(config);
        var before = Snapshot(directory);
        using var sim = new Simulator(config, overrides: Uniform);
        await sim.RunAsync(new RunOptions { Directory = directory, Mode = RunDirectoryMode.Overwrite, Plots = false });

        var moved = Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(directory)!, Path.GetFileName(directory) + ".old-*"));
        Assert.Equal(before, Snapshot(moved));
        Assert.Equal(RunStateFile.Finished, RunStateFile.TryRead(directory)!.State);
    }

    [Fact]
    public async Task Resuming_a_finished_run_with_nothing_to_do_keeps_both_checkpoints()
    {
        var config = Scenarios.Logistic(rounds: 4) with { CheckpointEvery = 2 };
        var directory = await Finished(config);
        var checkpoint = Path.Combine(directory, CheckpointFile.FileName);
        var current = File.ReadAllBytes(checkpoint);
        var previous = File.ReadAllBytes(checkpoint + ".previous");

        using var sim = new Simulator(config, overrides: Uniform);
        Assert.NotNull(await sim.RunAsync(directory, resume: true, plots: false));
        Assert.Equal(current, File.ReadAllBytes(checkpoint));
        Assert.Equal(previous, File.ReadAllBytes(checkpoint + ".previous"));
    }

    [Fact]
    public async Task Resume_below_the_checkpoint_round_is_refused()
    {
        var config = Scenarios.Logistic(rounds: 4);
        var directory = await Finished(config);
        var before = Snapshot(directory);
        using var sim = new Simulator(config with { Rounds = 2 }, overrides: Uniform);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => sim.RunAsync(directory, resume: true, plots: false));
        Assert.Contains("rounds = 2", e.Message);
        Assert.Contains("round 4", e.Message);
        Assert.Equal(before, Snapshot(directory));
    }

    [Fact]
    public async Task Resume_with_a_changed_rule_or_learning_rate_names_the_keys()
    {
        var config = Scenarios.Logistic(rounds: 4);
        var directory = await Finished(config);
        using var sim = new Simulator(config with { Rounds = 6, Aggregator = "median", LearningRate = 0.25, EvalEvery = 2 }, overrides: Uniform);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => sim.RunAsync(directory, resume: true, plots: false));
        Assert.Contains("aggregator (mean → median)", e.Message);
        Assert.Contains("lr (0.5 → 0.25)", e.Message);
        Assert.DoesNotContain("rounds (", e.Message);
        Assert.DoesNotContain("eval_every (", e.Message);
    }

    [Fact]
    public async Task Resume_with_a_damaged_state_file_is_refused_and_changes_no_file()
    {
        var config = Scenarios.Logistic(rounds: 4);
        var directory = await Finished(config);
        var state = Path.Combine(directory, RunStateFile.FileName);
        File.WriteAllText(state, "garbage");
        var before = Snapshot(directory);

        // Without the recorded config, a changed learning rate (an edited config.yaml) would go unnoticed.
        using var sim = new Simulator(config with { Rounds = 6, LearningRate = 0.25 }, overrides: Uniform);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => sim.RunAsync(directory, resume: true, plots: false));
        Assert.StartsWith($"cannot resume: {state} is damaged (not the JSON of a run's state)", e.Message);
        Assert.Contains("delete it to resume against config.yaml alone", e.Message);
        Assert.Equal(before, Snapshot(directory));
    }

    [Fact]
    public async Task Resume_may_raise_rounds_and_records_the_new_state()
    {
        var config = Scenarios.Logistic(rounds: 4);
        var directory = await Finished(config);
        using var sim = new Simulator(config with { Rounds = 6, EvalEvery = 3 }, overrides: Uniform);
        Assert.NotNull(await sim.RunAsync(directory, resume: true, plots: false));
        var state = RunStateFile.TryRead(directory)!;
        Assert.Equal(RunStateFile.Finished, state.State);
        Assert.Equal(6, state.Round);
        Assert.Equal("6", state.Config["rounds"]);
    }

    [Fact]
    public async Task Halted_run_stays_running_and_cancelled_run_says_interrupted()
    {
        var config = Scenarios.Logistic(rounds: 6);
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            await sim.RunAsync(directory, stopAfterRound: 2, plots: false);
        }

        Assert.Equal(RunStateFile.Running, RunStateFile.TryRead(directory)!.State);
        using var cancel = new CancellationTokenSource();
        using (var sim = new Simulator(config, overrides: Uniform))
        {
            await cancel.CancelAsync();
            var result = await sim.RunAsync(new RunOptions { Directory = directory, Mode = RunDirectoryMode.Overwrite, Plots = false }, cancel.Token);
            Assert.Equal(RunEnd.Interrupted, result.End);
        }

        Assert.Equal(RunStateFile.Interrupted, RunStateFile.TryRead(directory)!.State);
    }
}
