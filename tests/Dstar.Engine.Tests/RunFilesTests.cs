using Dstar.Engine.Checkpoints;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests;

public class RunFilesTests
{
    private static readonly SimulatorOverrides Uniform = new() { Delay = new UniformDelay() };

    private static async Task<string> Run(Dstar.Engine.Configuration.ExperimentConfig config, bool plots = false)
    {
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(config, overrides: Uniform with { Attack = config.Byzantine > 0 ? new RecordingSignFlip() : null });
        await sim.RunAsync(directory, plots: plots);
        return directory;
    }

    [Fact]
    public async Task Simulate_writes_every_run_file()
    {
        var config = Scenarios.Logistic(rounds: 12) with { Byzantine = 2, Attack = "sign-flip", CheckpointEvery = 5 };
        var directory = await Run(config, plots: true);
        foreach (var name in new[] { "config.yaml", "metrics.jsonl", "metrics.csv", "summary.json", "checkpoint.bin", "accuracy_by_round.png", "accuracy_by_time.png", "round_time.png", "workers.png" })
        {
            Assert.True(File.Exists(Path.Combine(directory, name)), name + " is missing");
        }

        Assert.Equal(12, File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")).Length);
        var csv = File.ReadAllLines(Path.Combine(directory, "metrics.csv"));
        Assert.Equal(13, csv.Length);
        Assert.StartsWith("round,virtual_time,round_time,wall_time,loss,accuracy", csv[0]);

        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "summary.json")));
        var root = summary.RootElement;
        foreach (var key in new[] { "final_accuracy", "best_accuracy", "rounds", "virtual_seconds", "wall_seconds", "mean_round_virtual_seconds", "filter_precision", "filter_recall", "byzantine_kept_fraction" })
        {
            Assert.True(root.TryGetProperty(key, out _), key + " is missing from summary.json");
        }

        Assert.Equal(12, root.GetProperty("rounds").GetInt32());

        // mean keeps everything it accepts: the 2 fast Byzantine gradients of each of 12 rounds, out of 7 kept per round.
        Assert.Equal(24, root.GetProperty("byzantine_kept").GetInt32());
        Assert.Equal(24.0 / 84, root.GetProperty("byzantine_kept_fraction").GetDouble(), 12);
        Assert.True(root.GetProperty("final_accuracy").GetDouble() > 0.5);
    }

    [Fact]
    public async Task Same_config_and_seed_give_byte_identical_metrics()
    {
        var config = Scenarios.Logistic(rounds: 15) with { Byzantine = 2, Attack = "sign-flip" };
        var first = await Run(config);
        var second = await Run(config);
        Assert.Equal(Scenarios.MetricsWithoutWallTime(first), Scenarios.MetricsWithoutWallTime(second));

        var other = await Run(config with { Seed = 4 });
        Assert.NotEqual(Scenarios.MetricsWithoutWallTime(first), Scenarios.MetricsWithoutWallTime(other));
    }

    [Fact]
    public async Task Resume_ends_with_the_same_metrics_as_an_uninterrupted_run()
    {
        var config = Scenarios.Logistic(rounds: 20) with { Byzantine = 2, Attack = "sign-flip", CheckpointEvery = 6, Momentum = 0.9, LearningRate = 0.1 };
        var whole = await Run(config);

        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config, overrides: Uniform with { Attack = new RecordingSignFlip() }))
        {
            // Interrupted after 15 rounds: the last checkpoint is at 12, so rounds 12–14 are recomputed on resume.
            Assert.Null(await sim.RunAsync(directory, stopAfterRound: 15, plots: false));
        }

        Assert.Equal(15, File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")).Length);
        using (var sim = new Simulator(config, overrides: Uniform with { Attack = new RecordingSignFlip() }))
        {
            await sim.RunAsync(directory, resume: true, plots: false);
            Assert.Equal(20, sim.Server.Version);
        }

        Assert.Equal(Scenarios.MetricsWithoutWallTime(whole), Scenarios.MetricsWithoutWallTime(directory));
        var summaryWhole = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(whole, "summary.json")), "\"wall_seconds\": [^,]*,", "");
        var summaryResumed = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(directory, "summary.json")), "\"wall_seconds\": [^,]*,", "");
        Assert.Equal(summaryWhole, summaryResumed);
    }

    [Fact]
    public async Task Resume_ignores_a_half_written_row_past_the_checkpoint_but_not_one_it_covers()
    {
        var config = Scenarios.Logistic(rounds: 10) with { CheckpointEvery = 5 };
        var directory = await Run(config);
        var metrics = Path.Combine(directory, "metrics.jsonl");
        var lines = File.ReadAllLines(metrics);

        // A run killed while writing row 8: its checkpoint covers rows 0–4, which are whole.
        File.WriteAllText(metrics, string.Join("\n", lines[..8]) + "\n" + lines[8][..20]);
        Assert.Equal(Enumerable.Range(0, 5), Dstar.Engine.Recording.MetricsFiles.Read(directory, 5).Select(r => (int)r.Round));

        // A damaged row that the checkpoint does cover is still an error naming the file and line.
        File.WriteAllText(metrics, string.Join("\n", lines[..3]) + "\n" + lines[3][..20] + "\n" + string.Join("\n", lines[4..]) + "\n");
        var e = Assert.Throws<InvalidDataException>(() => Dstar.Engine.Recording.MetricsFiles.Read(directory, 5));
        Assert.Contains("line 4", e.Message);
    }

    [Fact]
    public void Checkpoint_round_trips_every_field()
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        var saved = new Checkpoint(17, 5, 12.5, [0f, -2f, float.Epsilon], [0.5f, 0f, -0f], true, [3f, 4f, 5f]);
        CheckpointFile.Save(path, saved);
        var loaded = CheckpointFile.Load(path);
        Assert.Equal(saved.Round, loaded.Round);
        Assert.Equal(saved.Seed, loaded.Seed);
        Assert.Equal(saved.VirtualSeconds, loaded.VirtualSeconds);
        Assert.Equal(saved.Parameters, loaded.Parameters);
        Assert.Equal(saved.Velocity, loaded.Velocity);
        Assert.True(loaded.HasVelocity);
        Assert.Equal(saved.PreviousAggregate, loaded.PreviousAggregate);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Corrupt_checkpoint_gives_a_clear_error_and_loses_nothing_saved()
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        CheckpointFile.Save(path, new Checkpoint(5, 1, 1.0, [1f, 2f], [0f, 0f], false, null));
        CheckpointFile.Save(path, new Checkpoint(10, 1, 2.0, [3f, 4f], [0f, 0f], false, null));
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path));
        Assert.Contains("corrupt", e.Message);
        Assert.Contains("checksum", e.Message);
        Assert.Contains(path + ".previous", e.Message);

        // Nothing was rewritten or deleted: the corrupt file is as it was, and the previous checkpoint still loads.
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(5, CheckpointFile.Load(path + ".previous").Round);
    }

    [Fact]
    public void Truncated_checkpoint_gives_a_clear_error()
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        CheckpointFile.Save(path, new Checkpoint(5, 1, 1.0, [1f, 2f], [0f, 0f], false, null));
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);
        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task Resume_from_a_corrupt_checkpoint_fails_before_touching_the_run()
    {
        var config = Scenarios.Logistic(rounds: 6) with { CheckpointEvery = 3 };
        var directory = await Run(config);
        var checkpoint = Path.Combine(directory, CheckpointFile.FileName);
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[^1] ^= 1;
        File.WriteAllBytes(checkpoint, bytes);
        var metrics = File.ReadAllBytes(Path.Combine(directory, "metrics.jsonl"));

        using var sim = new Simulator(config with { Rounds = 9 }, overrides: Uniform);
        await Assert.ThrowsAsync<CheckpointException>(() => sim.RunAsync(directory, resume: true, plots: false));
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(directory, "metrics.jsonl")));
    }
}
