using System.Threading.Channels;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Engine.Recording;
using Dstar.Engine.Server;
using Dstar.Engine.Simulation;
using Dstar.Engine.Transport;
using Xunit;

namespace Dstar.Engine.Tests.Server;

/// <summary>
/// The per-round wall-clock breakdown: recorded on a wall-clock transport, split by what the closing worker reports,
/// written to and read back from the metrics files; absent in simulation.
/// </summary>
public class RoundTimingTests
{
    /// <summary>A wall-clock transport whose arrivals carry given times and worker reports.</summary>
    private sealed class ReportingTransport(int workers) : ITransport, IWorkerTimings
    {
        private readonly Channel<Arrival> _arrivals = Channel.CreateUnbounded<Arrival>();
        private readonly Dictionary<(int, long), (double, double)> _reports = new();

        public int WorkerCount => workers;

        public bool UsesVirtualTime => false;

        public ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public IAsyncEnumerable<Arrival> ReadArrivalsAsync(CancellationToken cancellationToken = default) => _arrivals.Reader.ReadAllAsync(cancellationToken);

        public (double ComputeSeconds, double LocalSeconds)? WorkerTiming(int worker, long version) =>
            _reports.TryGetValue((worker, version), out var report) ? report : null;

        public void Receive(int worker, long version, float[] gradient, double time, (double Compute, double Local)? report)
        {
            if (report is { } r)
            {
                lock (_reports)
                {
                    _reports[(worker, version)] = r;
                }
            }

            _arrivals.Writer.TryWrite(new Arrival(worker, version, gradient, time));
        }
    }

    private static ParameterServer Server(int workers, int k) => new(
        new ParameterServerOptions { WorkerCount = workers, K = k },
        new float[] { 1f, 1f },
        Registry.Pipeline("mean"),
        new Sgd(2, learningRate: 0.5));

    [Fact]
    public async Task The_closing_gradients_report_splits_its_arrival_time_into_compute_delay_and_wire()
    {
        var transport = new ReportingTransport(3);
        var server = Server(3, k: 2);
        var round = server.RunRoundAsync(transport);
        transport.Receive(2, 0, [1f, 1f], time: 0.5, report: (0.1, 0.2));
        transport.Receive(0, 0, [1f, 1f], time: 1.25, report: (0.25, 1.0)); // closes the round: k = 2
        transport.Receive(1, 0, [1f, 1f], time: 3.0, report: (9, 9));
        var timing = (await round.WaitAsync(TimeSpan.FromSeconds(10))).Timing!;
        Assert.Equal(0.25, timing.ComputeSeconds);
        Assert.Equal(0.75, timing.DelaySeconds);
        Assert.Equal(0.25, timing.WireSeconds);
        Assert.True(timing.WaitSeconds >= 0 && timing.AggregationSeconds >= 0 && timing.StepSeconds >= 0);
        Assert.Equal(0, timing.EvaluationSeconds);
        Assert.Equal(0, timing.ValidationSeconds);

        // A worker that reported nothing (or a report that exceeds the arrival time) leaves what is unknown empty, never negative.
        round = server.RunRoundAsync(transport);
        transport.Receive(1, 1, [1f, 1f], time: 0.5, report: (0.4, 0.6));
        transport.Receive(0, 1, [1f, 1f], time: 0.75, report: null);
        var unknown = (await round.WaitAsync(TimeSpan.FromSeconds(10))).Timing!;
        Assert.Equal((null, null, null), (unknown.ComputeSeconds, unknown.DelaySeconds, unknown.WireSeconds));

        round = server.RunRoundAsync(transport);
        transport.Receive(1, 2, [1f, 1f], time: 0.1, report: (0.1, 0.2));
        transport.Receive(2, 2, [1f, 1f], time: 0.2, report: (0.2, 0.5));
        var early = (await round.WaitAsync(TimeSpan.FromSeconds(10))).Timing!;
        Assert.Equal((0.2, 0.3, 0.0), (early.ComputeSeconds, early.DelaySeconds, early.WireSeconds));
    }

    [Fact]
    public async Task A_simulation_records_no_timing_and_a_timing_survives_the_metrics_files()
    {
        var directory = Scenarios.TemporaryDirectory();
        using (var simulator = new Simulator(Scenarios.Logistic(rounds: 3), overrides: new SimulatorOverrides { Delay = new UniformDelay() }))
        {
            await simulator.RunAsync(directory, plots: false);
        }

        Assert.All(MetricsFiles.Read(directory, long.MaxValue), row => Assert.Null(row.Timing));

        var other = Scenarios.TemporaryDirectory();
        var timing = new RoundTiming(1.5, 0.25, null, 0.125, 0.0625, 0.5, 0.03125, 0);
        var record = new RoundRecord(0, 1.5, 1.5, 2, 0.5, null, null, [0, 1], [0, 1], [], [], 0, 0, 1, true, 2, null, timing);
        using (var files = new MetricsFiles(other))
        {
            files.Start(new RunInfo("t", other, 2, 1, [], ""), 0, []);
            files.Record(record);
        }

        Assert.Equal(timing, Assert.Single(MetricsFiles.Read(other, long.MaxValue)).Timing);
        var csv = File.ReadAllLines(Path.Combine(other, MetricsFiles.CsvName));
        Assert.EndsWith(",wait_s,compute_s,delay_s,wire_s,validation_s,aggregation_s,step_s,evaluation_s", csv[0]);
        Assert.EndsWith(",1.5,0.25,,0.125,0.0625,0.5,0.03125,0", csv[1]);
    }
}
