using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;

namespace Dstar.Cluster.Tests.Server;

/// <summary>What waits for a worker on its session stream.</summary>
public class WorkerSessionTests
{
    private static int RoundsDone(string metrics) =>
        int.Parse(metrics.Split('\n').Single(line => line.StartsWith("dstar_rounds_total ", StringComparison.Ordinal))["dstar_rounds_total ".Length..],
            System.Globalization.CultureInfo.InvariantCulture);

    private static ServerMessage Parameters(long version) => new() { Parameters = new Parameters { Version = version } };

    [Fact]
    public void Only_the_newest_parameters_wait_on_the_stream_in_the_place_of_the_first_not_yet_written()
    {
        using var lifetime = new CancellationTokenSource();
        var session = new WorkerSession(0, lifetime);
        for (var version = 0; version < 100; version++)
        {
            Assert.True(session.SendParameters(Parameters(version)));
            if (version == 10)
            {
                session.Send(new ServerMessage { Outcome = new Outcome { Version = 9, Kind = OutcomeKind.Rejected } });
            }
        }

        // Before, all 100 versions waited (4·d bytes each) for a worker that did not read.
        var waiting = new List<ServerMessage>();
        while (session.Outbox.Reader.TryRead(out var message))
        {
            waiting.Add(message);
        }

        Assert.Equal(2, waiting.Count);
        Assert.Same(WorkerSession.ParametersMarker, waiting[0]);
        Assert.Equal(99, session.TakeWaitingParameters()!.Parameters.Version);
        Assert.Equal(9, waiting[1].Outcome.Version);

        // Taken by the writer: the next version queues a marker again.
        Assert.True(session.SendParameters(Parameters(100)));
        Assert.True(session.Outbox.Reader.TryRead(out var next));
        Assert.Same(WorkerSession.ParametersMarker, next);
        Assert.Equal(100, session.TakeWaitingParameters()!.Parameters.Version);
        Assert.Null(session.TakeWaitingParameters());
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_worker_that_stops_reading_its_stream_gets_the_newest_parameters_when_it_reads_again()
    {
        // Small messages (d = 2 × 201) fill the client's HTTP/2 stream window and Kestrel's buffers after some dozens;
        // from then on the server's writer blocks and the following rounds wait in the session's outbox.
        var config = ClusterFixture.Yaml(workers: 3, k: 2, rounds: 100_000, samples: 300, features: 200);
        await using var server = new InProcessServer(config);
        await server.ReadyAsync();
        using var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(2));
        using var idle = await WorkerConnection.JoinAsync(server.Channel, 2, key, server.Contract, CancellationToken.None);
        server.StartHonestWorker(0);
        server.StartHonestWorker(1);
        const int Reached = 200;
        for (var waited = 0; RoundsDone(await server.MetricsAsync()) < Reached; waited += 100)
        {
            Assert.True(waited < 90_000 && !server.Task.IsCompleted, $"the run never reached round {Reached}: {server.Task.Exception}\n{server.Progress}");
            await Task.Delay(100);
        }

        // Read what waited up to a version past the round reached: before, every version in order (over 200 messages);
        // now those written before the writer blocked, and then the newest.
        var versions = new List<long>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (versions.Count == 0 || versions[^1] < Reached)
        {
            Assert.True(await idle.Call.ResponseStream.MoveNext(timeout.Token));
            if (idle.Call.ResponseStream.Current.Parameters is { } parameters)
            {
                versions.Add(parameters.Version);
            }
        }

        Assert.True(versions.Count < Reached / 2, $"versions written to the worker: {string.Join(", ", versions)}");
    }
}
