using System.Text.Json;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;

namespace Dstar.Cluster.Tests;

/// <summary>
/// <c>dstar launch</c> (a server and N worker processes on loopback) against the in-process simulator on the same
/// config and seed. With zero real delays (--delay-scale 0) every worker answers every round (k = N), and the coordinate-wise median does not
/// depend on the order the gradients arrive in, so the two runs must step through bit-identical parameters; with
/// <c>wire: bfloat16</c> too, since the simulator rounds each gradient through the cluster's codec; and with two
/// workers in one process (<c>--workers-per-process 2</c>), whose second worker computes on a model replica.
/// </summary>
[Trait("Category", "Cluster")]
public class SimulatorEquivalenceTests
{
    [Theory]
    [InlineData("float32", 1)]
    [InlineData("bfloat16", 1)]
    [InlineData("float32", 2)]
    public async Task Launch_and_simulate_follow_the_same_trajectory_for_the_same_seed(string wire, int workersPerProcess)
    {
        var yaml = ClusterFixture.Yaml(workers: 3, k: 3, rounds: 20, checkpointEvery: 20, aggregator: "median", samples: 600, extra: $"delay: constant time=1\nwire: {wire}\n");
        using var fixture = new ClusterFixture(yaml);
        var clusterDirectory = Path.Combine(fixture.Directory, "cluster");
        using (var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", clusterDirectory, "--delay-scale", "0",
                   "--workers-per-process", workersPerProcess.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            Assert.Equal(0, await launch.WaitAsync(TimeSpan.FromSeconds(120)));

            // Each worker still has a session of its own; the launcher labels a process's lines with its workers.
            string[] labels = workersPerProcess == 1 ? ["[worker 0]", "[worker 1]", "[worker 2]"] : ["[workers 0-1]", "[worker 2]"];
            Assert.All(labels, label => Assert.Contains(label, launch.Output, StringComparison.Ordinal));
            Assert.All(Enumerable.Range(0, 3), w => Assert.Contains($"worker {w}: run finished", launch.Output, StringComparison.Ordinal));
        }

        var simulationDirectory = Path.Combine(fixture.Directory, "simulation");
        using (var simulator = new Simulator(ConfigLoader.LoadFile(fixture.ConfigPath)))
        {
            await simulator.RunAsync(simulationDirectory, plots: false);
        }

        // The same run directory as dstar simulate.
        foreach (var file in new[] { "config.yaml", MetricsFiles.JsonLinesName, MetricsFiles.CsvName, SummaryFile.FileName, CheckpointFile.FileName })
        {
            Assert.True(File.Exists(Path.Combine(clusterDirectory, file)), $"the cluster run directory lacks {file}");
        }

        var cluster = CheckpointFile.Load(Path.Combine(clusterDirectory, CheckpointFile.FileName));
        var simulation = CheckpointFile.Load(Path.Combine(simulationDirectory, CheckpointFile.FileName));
        Assert.Equal(20, cluster.Round);
        Assert.Equal(simulation.Round, cluster.Round);
        Assert.Equal(simulation.Parameters, cluster.Parameters);

        // Round by round: the same validation loss at x_t and the same aggregate norm, so the same x_t every round.
        static (double Loss, double Norm)[] Trajectory(string directory) => File.ReadAllLines(Path.Combine(directory, MetricsFiles.JsonLinesName))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(r => (r.GetProperty("loss").GetDouble(), r.GetProperty("aggregate_norm").GetDouble()))
            .ToArray();
        Assert.Equal(Trajectory(simulationDirectory), Trajectory(clusterDirectory));

        // The round breakdown: every cluster row has each phase, and the closing gradient's compute, delay and wire add
        // up to its arrival time (wire is what the worker's own time leaves of it); a simulation leaves them empty.
        static JsonElement[] Rows(string directory) => File.ReadAllLines(Path.Combine(directory, MetricsFiles.JsonLinesName))
            .Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        foreach (var row in Rows(clusterDirectory))
        {
            foreach (var column in Dstar.Engine.Server.RoundTiming.Columns)
            {
                Assert.True(row.GetProperty(column).ValueKind == JsonValueKind.Number && row.GetProperty(column).GetDouble() >= 0, $"{column} in {row}");
            }

            double Get(string column) => row.GetProperty(column).GetDouble();
            if (Get("wire_s") > 0)
            {
                Assert.Equal(Get("round_time"), Get("compute_s") + Get("delay_s") + Get("wire_s"), 9);
            }

            Assert.True(Get("wait_s") >= Get("validation_s"), $"g₀ is computed while the server waits: {row}");
        }

        Assert.All(Rows(simulationDirectory), row => Assert.All(Dstar.Engine.Server.RoundTiming.Columns,
            column => Assert.Equal(JsonValueKind.Null, row.GetProperty(column).ValueKind)));
        var prom = File.ReadAllText(Path.Combine(clusterDirectory, "metrics.prom"));
        foreach (var phase in Dstar.Cluster.Observability.ClusterMetrics.Phases)
        {
            Assert.Contains($"dstar_round_phase_seconds_count{{phase=\"{phase}\"}} 20", prom);
        }

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(clusterDirectory, SummaryFile.FileName))).RootElement;
        var simulated = JsonDocument.Parse(File.ReadAllText(Path.Combine(simulationDirectory, SummaryFile.FileName))).RootElement;
        Assert.Equal(simulated.GetProperty("final_accuracy").GetDouble(), summary.GetProperty("final_accuracy").GetDouble());
    }
}
