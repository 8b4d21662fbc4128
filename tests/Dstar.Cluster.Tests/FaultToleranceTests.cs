using Dstar.Cluster.Server;
using Dstar.Engine.Checkpoints;

namespace Dstar.Cluster.Tests;

/// <summary>Real OS processes on loopback: crashes of workers and of the server.</summary>
[Trait("Category", "Cluster")]
public class FaultToleranceTests
{
    [Fact]
    public async Task Six_workers_k4_finish_training_when_two_are_killed_mid_run_and_a_restarted_one_rejoins()
    {
        const int rounds = 400;
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 6, k: 4, rounds: rounds), computeMilliseconds: 15);
        using var server = DstarProcess.Start(fixture.ServeArguments());
        var workers = Enumerable.Range(0, 6).Select(id => DstarProcess.Start(fixture.WorkArguments(id))).ToList();
        try
        {
            await fixture.WaitForRoundAsync(15, TimeSpan.FromSeconds(90), () => server.Output);
            workers[4].Kill();
            workers[5].Kill();
            var killedAt = fixture.Rounds().Count;
            await fixture.WaitForRoundAsync(killedAt + 20, TimeSpan.FromSeconds(60), () => server.Output);

            // Worker 5 comes back (a crashed host restarted): it rejoins and gets the current parameters.
            var restartedAt = fixture.Rounds().Count;
            workers.Add(DstarProcess.Start(fixture.WorkArguments(5)));
            Assert.Equal(0, await server.WaitAsync(TimeSpan.FromSeconds(120)));

            var summary = fixture.Summary();
            Assert.Equal(rounds, summary.GetProperty("rounds").GetInt32());
            Assert.True(summary.GetProperty("final_accuracy").GetDouble() > 0.75, server.Output);
            var history = fixture.Rounds();
            Assert.Equal(Enumerable.Range(0, rounds), history.Select(r => r.GetProperty("round").GetInt32()));
            int[] Accepted(int round) => history[round].GetProperty("accepted").EnumerateArray().Select(a => a.GetInt32()).Order().ToArray();

            // Between the crash and the restart every round still aggregates k = 4 gradients, from the four survivors.
            for (var round = killedAt + 2; round < restartedAt; round++)
            {
                Assert.Equal([0, 1, 2, 3], Accepted(round));
            }

            // After the restart worker 5 is back among the first k of some rounds, at the then current version.
            var rejoined = Enumerable.Range(restartedAt, rounds - restartedAt).Count(round => Accepted(round).Contains(5));
            Assert.True(rejoined > 0, $"worker 5 never contributed after its restart at round {restartedAt}:\n{workers[^1].Output}");

            var metrics = File.ReadAllText(Path.Combine(fixture.RunDirectory, "metrics.prom"));
            Assert.Contains($"dstar_rounds_total {rounds}", metrics);
            Assert.Contains("dstar_connected_workers ", metrics);
            foreach (var id in new[] { 0, 1, 2, 3, 6 })
            {
                Assert.Equal(0, await workers[id].WaitAsync(TimeSpan.FromSeconds(20)));
            }
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task The_server_says_why_it_waits_when_fewer_than_k_workers_are_connected()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 3, k: 2, rounds: 100_000), computeMilliseconds: 10);
        using var server = DstarProcess.Start(fixture.ServeArguments());
        server.WaitForLine("waiting for 2 workers to join before round 0 \\(0 connected\\)", TimeSpan.FromSeconds(60));
        using var first = DstarProcess.Start(fixture.WorkArguments(0));
        using var second = DstarProcess.Start(fixture.WorkArguments(1));
        await fixture.WaitForRoundAsync(5, TimeSpan.FromSeconds(90), () => server.Output);

        // Before, the server went silent here: rounds stalled with nothing in its log to say why.
        second.Kill();
        server.WaitForLine("worker 1 left; 1 of 3 workers connected, fewer than k = 2: no round can close until more workers join", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task With_fewer_than_k_alive_rounds_close_at_the_deadline_with_k_min()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 4, k: 4, rounds: 40, extra: "deadline: 0.25\nk_min: 2\n"), computeMilliseconds: 15);
        using var server = DstarProcess.Start(fixture.ServeArguments());
        var workers = Enumerable.Range(0, 4).Select(id => DstarProcess.Start(fixture.WorkArguments(id))).ToList();
        try
        {
            await fixture.WaitForRoundAsync(10, TimeSpan.FromSeconds(90), () => server.Output);
            workers[2].Kill();
            workers[3].Kill();
            var killedAt = fixture.Rounds().Count;
            Assert.Equal(0, await server.WaitAsync(TimeSpan.FromSeconds(90)));

            var rounds = fixture.Rounds();
            Assert.Equal(40, rounds.Count);
            foreach (var round in rounds.Skip(killedAt + 2))
            {
                var accepted = round.GetProperty("accepted").EnumerateArray().Select(a => a.GetInt32()).Order().ToArray();
                Assert.Equal([0, 1], accepted);
                // Closed by the deadline (k = 4 never arrives), not before it.
                Assert.InRange(round.GetProperty("round_time").GetDouble(), 0.25, 5);
            }
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task A_killed_server_resumes_from_its_last_checkpoint_and_workers_reconnect()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 4, k: 3, rounds: 60, checkpointEvery: 5, samples: 800), computeMilliseconds: 15);
        var workers = Enumerable.Range(0, 4).Select(id => DstarProcess.Start(fixture.WorkArguments(id))).ToList();
        try
        {
            Checkpoint saved;
            using (var first = DstarProcess.Start(fixture.ServeArguments()))
            {
                await fixture.WaitForRoundAsync(22, TimeSpan.FromSeconds(90), () => first.Output);
                first.Kill();
                await first.WaitAsync(TimeSpan.FromSeconds(10));
                saved = CheckpointFile.Load(fixture.CheckpointPath);
            }

            Assert.True(saved.Round >= 20 && saved.Round % 5 == 0, $"checkpoint at {saved.Round}");
            using var second = DstarProcess.Start(fixture.ServeArguments(resume: true));
            Assert.Equal(0, await second.WaitAsync(TimeSpan.FromSeconds(90)));
            Assert.Contains($"at round {saved.Round}", second.Output);

            var summary = fixture.Summary();
            Assert.Equal(60, summary.GetProperty("rounds").GetInt32());
            Assert.True(summary.GetProperty("final_accuracy").GetDouble() > 0.75);

            // The metrics were replayed up to the checkpoint and continue from it: every round exactly once.
            var rounds = fixture.Rounds().Select(r => r.GetProperty("round").GetInt32()).ToArray();
            Assert.Equal(Enumerable.Range(0, 60), rounds);
            foreach (var worker in workers)
            {
                Assert.Equal(0, await worker.WaitAsync(TimeSpan.FromSeconds(20)));
            }
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task Sigterm_makes_the_server_checkpoint_the_last_full_round()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 3, k: 3, rounds: 1000, samples: 300, features: 5), computeMilliseconds: 20);
        var workers = Enumerable.Range(0, 3).Select(id => DstarProcess.Start(fixture.WorkArguments(id))).ToList();
        try
        {
            using var server = DstarProcess.Start(fixture.ServeArguments());
            await fixture.WaitForRoundAsync(5, TimeSpan.FromSeconds(90), () => server.Output);
            server.Terminate();
            Assert.Equal(ClusterServer.InterruptedExitCode, await server.WaitAsync(TimeSpan.FromSeconds(20)));
            var checkpoint = CheckpointFile.Load(fixture.CheckpointPath);
            Assert.Equal(fixture.Rounds().Count, checkpoint.Round);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task Sigterm_to_launch_checkpoints_and_leaves_no_worker_behind()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 3, k: 2, rounds: 5000, samples: 300, features: 5), computeMilliseconds: 5);
        var directory = Path.Combine(fixture.Directory, "launched");
        using var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", directory, "--delay-scale", "0", "--compute-ms", "5"]);
        var metrics = Path.Combine(directory, Dstar.Engine.Recording.MetricsFiles.JsonLinesName);
        for (var waited = 0; !File.Exists(metrics) || File.ReadLines(metrics).Count() < 5; waited += 100)
        {
            Assert.True(waited < 90_000 && !launch.HasExited, "launch never reached round 5:\n" + launch.Output);
            await Task.Delay(100);
        }

        launch.Terminate();
        await launch.WaitAsync(TimeSpan.FromSeconds(30));

        // The server saved its last full round, and no worker of this run is left retrying a server that is gone.
        var checkpoint = CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName));
        Assert.InRange(checkpoint.Round, 5, 5000);
        var left = ProcessesMentioning(directory);
        Assert.True(left.Count == 0, "left running: " + string.Join("; ", left.Select(pid => File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')))
            + "\n" + launch.Output);
    }

    /// <summary>Ids of the live processes whose command line mentions <paramref name="text"/>.</summary>
    private static List<int> ProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(entry, "cmdline")).Contains(text, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended while being read.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }
}
