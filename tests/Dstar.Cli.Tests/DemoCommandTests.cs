using System.Text.Json;
using Dstar.Cli.Commands;
using Dstar.Cli.Failures;
using Xunit;

namespace Dstar.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    [Trait("Category", "EndToEnd")]
    public void Demo_dstar_beats_plain_averaging_and_first_k_rounds_are_shorter_than_waiting_for_all()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dstar-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int exit = DemoCommand.Run(json: true, directory, ["rounds=60", "eval_every=20"], output, error);
            Assert.True(exit == 0, error.ToString());

            var runs = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("runs").EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r);
            var mean = runs["mean (waits for all 20)"];
            var dstar = runs["dstar (first 15)"];

            // IPM with ε = 100 breaks plain averaging; dSTAR drops every Byzantine gradient and learns.
            Assert.True(dstar.GetProperty("final_accuracy").GetDouble() > mean.GetProperty("final_accuracy").GetDouble() + 0.3);
            Assert.Equal(0, dstar.GetProperty("byzantine_kept").GetInt32());
            Assert.True(mean.GetProperty("byzantine_kept").GetInt32() > 0);

            // Under heavy-tailed delays, the k-th of 20 answers comes far sooner than the last.
            Assert.True(dstar.GetProperty("mean_round_virtual_seconds").GetDouble() < mean.GetProperty("mean_round_virtual_seconds").GetDouble());
            Assert.True(File.Exists(Path.Combine(directory, "accuracy_by_time.png")));
            Assert.True(File.Exists(Path.Combine(directory, "dstar", "summary.json")));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static readonly string[] Short = ["rounds=2", "eval_every=1"];

    [Fact]
    public void A_named_out_holding_an_earlier_demo_is_refused_and_overwrite_moves_it_aside()
    {
        using var run = new CliRun();
        var directory = run.PathOf("demo");
        var median = Path.Combine(directory, "median");
        Directory.CreateDirectory(median);
        File.WriteAllText(Path.Combine(median, "summary.json"), "{\"rounds\": 3}\n");
        File.WriteAllText(Path.Combine(median, "notes.txt"), "mine\n");

        var refused = CliRun.Invoke("demo", "--out", directory, "--json", "--set", Short[0], "--set", Short[1]);
        Assert.Equal(ExitCodes.Data, refused.Exit);
        Assert.Equal(
            $"dstar demo: --out '{directory}' already holds an earlier demo ({median}); pass --overwrite to move it aside to {directory}.old-TIMESTAMP, or give another --out",
            refused.Error.Trim());
        Assert.Equal(["median"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        Assert.Equal("{\"rounds\": 3}\n", File.ReadAllText(Path.Combine(median, "summary.json")));

        var moved = CliRun.Invoke("demo", "--out", directory, "--overwrite", "--json", "--set", Short[0], "--set", Short[1]);
        Assert.True(moved.Exit == 0, moved.Error);
        var aside = Assert.Single(Directory.GetDirectories(run.Directory, "demo.old-*"));
        Assert.Equal($"moved the previous {directory} aside to {aside}", moved.Error.Trim());
        Assert.Equal(3, JsonDocument.Parse(moved.Output).RootElement.GetProperty("runs").GetArrayLength()); // still only JSON on standard output
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(aside, "median", "notes.txt")));
        Assert.Equal("{\"rounds\": 3}\n", File.ReadAllText(Path.Combine(aside, "median", "summary.json")));
        Assert.False(File.Exists(Path.Combine(median, "notes.txt")));
        Assert.Contains("\"rounds\": 2", File.ReadAllText(Path.Combine(median, "summary.json")));
    }

    [Fact]
    public void An_out_with_other_files_is_used_and_they_are_left_alone()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("notes.txt"), "mine\n");
        var result = CliRun.Invoke("demo", "--out", run.Directory, "--json", "--set", Short[0], "--set", Short[1]);
        Assert.True(result.Exit == 0, result.Error);
        Assert.Equal("", result.Error);
        Assert.Equal("mine\n", File.ReadAllText(run.PathOf("notes.txt")));
        Assert.True(File.Exists(Path.Combine(run.Directory, "dstar", "summary.json")));
    }

    [Fact]
    public void The_default_directory_is_moved_aside_with_a_message_so_the_quick_start_can_run_again()
    {
        using var run = new CliRun();
        var directory = run.PathOf("demo");
        var first = new StringWriter();
        var error = new StringWriter();
        Assert.True(DemoCommand.RunInto(json: false, directory, mayMoveAside: true, Short, first, error) == 0, error.ToString());
        Assert.DoesNotContain("moved", first.ToString());
        var earlier = File.ReadAllBytes(Path.Combine(directory, "dstar", "metrics.jsonl"));

        var second = new StringWriter();
        Assert.True(DemoCommand.RunInto(json: false, directory, mayMoveAside: true, Short, second, error) == 0, error.ToString());
        var aside = Assert.Single(Directory.GetDirectories(run.Directory, "demo.old-*"));
        Assert.StartsWith($"moved the previous {directory} aside to {aside}\n", second.ToString().ReplaceLineEndings("\n"));
        Assert.Equal(earlier, File.ReadAllBytes(Path.Combine(aside, "dstar", "metrics.jsonl")));
        foreach (var name in new[] { "mean", "median", "dstar" })
        {
            Assert.True(File.Exists(Path.Combine(directory, name, "summary.json")), name);
        }

        Assert.Equal("", error.ToString());
    }
}
