using System.Text.Json;
using Dstar.Engine.Recording;

namespace Dstar.Cluster.Tests;

/// <summary>Byzantine roles played by real worker processes.</summary>
[Trait("Category", "Cluster")]
public class ByzantineTests
{
    [Fact]
    public async Task Fast_ipm_workers_answer_first_and_dstar_filters_every_one_of_them()
    {
        // IPM with ε = 100 lands far outside the honest cloud (docs/method.md: δ/δ_ref near 50–60), so τ = 2 drops it.
        var yaml = ClusterFixture.Yaml(workers: 6, k: 4, rounds: 30, aggregator: "dstar",
            extra: "byzantine: 2\nattack: ipm epsilon=100\nattack_timing: fast\n");
        using var fixture = new ClusterFixture(yaml);
        var directory = Path.Combine(fixture.Directory, "run");
        using (var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", directory, "--delay-scale", "0", "--compute-ms", "20"]))
        {
            Assert.True(await launch.WaitAsync(TimeSpan.FromSeconds(120)) == 0, launch.Output);
        }

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, SummaryFile.FileName))).RootElement;
        Assert.True(summary.GetProperty("byzantine_accepted").GetInt64() >= 30, summary.ToString());
        Assert.Equal(0, summary.GetProperty("byzantine_kept").GetInt64());
        Assert.Equal(1.0, summary.GetProperty("filter_recall").GetDouble());
        Assert.True(summary.GetProperty("final_accuracy").GetDouble() > 0.75, summary.ToString());
        var metrics = File.ReadAllText(Path.Combine(directory, "metrics.prom"));
        Assert.Contains("dstar_gradients_dropped_total{worker=\"5\",reason=\"filtered\"}", metrics);
    }

    [Fact]
    public async Task A_round_that_cannot_complete_ends_the_run_with_a_summary_as_in_simulation()
    {
        // A rule that refuses its input: with no validation gradient g₀ and τ so small that no row passes, dSTAR has
        // nothing to fall back on in round 0. The run must end with a summary saying why, not with a stack trace.
        var yaml = ClusterFixture.Yaml(workers: 4, k: 4, rounds: 5,
            aggregator: "dstar tau=1e-9 center=exclude-validation reference=median-deviation").Replace("validation_size: 200", "validation_size: 0");
        using var fixture = new ClusterFixture(yaml);
        var directory = Path.Combine(fixture.Directory, "run");
        using (var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", directory, "--delay-scale", "0", "--compute-ms", "5"]))
        {
            Assert.True(await launch.WaitAsync(TimeSpan.FromSeconds(120)) == 0, launch.Output);
            Assert.DoesNotContain("   at ", launch.Output);
        }

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, SummaryFile.FileName))).RootElement;
        Assert.Equal(0, summary.GetProperty("stopped_at_round").GetInt64());
        Assert.Contains("no row passed the filter", summary.GetProperty("stop_reason").GetString());
    }
}
