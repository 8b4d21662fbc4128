using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Google.Protobuf;
using Grpc.Core;

namespace Dstar.Cluster.Tests;

/// <summary>
/// A registered worker sends every kind of bad gradient to a real server; each is refused with its reason, the
/// stream stays usable (except for an oversized message, which gRPC ends), and the honest workers train to the end.
/// </summary>
[Trait("Category", "Cluster")]
public class BadInputTests
{
    // Honest workers take 3 s per gradient, so round 0 stays open while worker 3 sends its bad messages, even on a
    // loaded machine (at 1 s the round sometimes closed first when every test project ran at once).
    private static readonly string Config = ClusterFixture.Yaml(workers: 4, k: 3, rounds: 4, samples: 400, features: 5);

    [Fact]
    public async Task Each_bad_gradient_is_refused_with_its_reason_and_training_finishes()
    {
        var monitor = new RecordingMonitor();
        await using var server = new InProcessServer(Config, computeMilliseconds: 3000, monitor);
        await server.ReadyAsync();
        using var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(3));
        using var connection = await WorkerConnection.JoinAsync(server.Channel, 3, key, server.Contract, CancellationToken.None);
        var d = connection.Welcome.Dimension;
        Assert.Equal(12, d); // softmax logistic regression: 2 classes × (5 features + bias)
        for (var id = 0; id < 3; id++)
        {
            server.StartHonestWorker(id);
        }

        var call = connection.Call;
        var version = (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Parameters)).Parameters.Version;
        Assert.Equal(0, version);

        async Task<Outcome> SendAsync(long v, ByteString data)
        {
            await call.RequestStream.WriteAsync(new WorkerMessage { Gradient = new Gradient { Version = v, Data = data } });
            return (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Outcome)).Outcome;
        }

        var good = new float[d];
        var nan = new float[d];
        nan[2] = float.NaN;
        var infinite = new float[d];
        infinite[0] = float.PositiveInfinity;

        var cases = new (string Name, long Version, ByteString Data, string Reason)[]
        {
            ("wrong length", 0, FloatWire.Encode(new float[d - 1]), $"length {d - 1}, expected {d}"),
            ("NaN", 0, FloatWire.Encode(nan), "NaN"),
            ("infinity", 0, FloatWire.Encode(infinite), "NaN or ±∞"),
            ("garbage bytes", 0, ByteString.CopyFrom(1, 2, 3, 4, 5, 6, 7), "not a whole number of float32"),
            ("future version", 5, FloatWire.Encode(good), "newer than the current 0"),
        };
        foreach (var (name, v, data, reason) in cases)
        {
            var outcome = await SendAsync(v, data);
            Assert.True(outcome.Kind == OutcomeKind.Rejected, $"{name}: {outcome}");
            Assert.Contains(reason, outcome.Reason);
        }

        // A good gradient is accepted; a second one for the same round is refused as a duplicate.
        await call.RequestStream.WriteAsync(new WorkerMessage { Gradient = new Gradient { Version = 0, Data = FloatWire.Encode(good) } });
        var duplicate = await SendAsync(0, FloatWire.Encode(good));
        Assert.Equal(OutcomeKind.Rejected, duplicate.Kind);
        Assert.Contains("duplicate", duplicate.Reason);

        // After the round closes the accepted one is reported kept; a gradient for version 0 is then stale.
        var first = (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Outcome)).Outcome;
        Assert.Equal((0L, OutcomeKind.Kept), (first.Version, first.Kind));
        Assert.Equal(1, (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Parameters)).Parameters.Version);
        var stale = await SendAsync(0, FloatWire.Encode(good));
        Assert.Equal(OutcomeKind.Late, stale.Kind);
        Assert.Contains("stale", stale.Reason);

        // A gradient larger than the model is refused by its length prefix; the stream ends, the server goes on.
        try
        {
            await call.RequestStream.WriteAsync(new WorkerMessage { Gradient = new Gradient { Version = 1, Data = FloatWire.Encode(new float[100_000]) } });
        }
        catch (RpcException)
        {
            // The server may reset the stream from the length prefix while the client is still writing the payload.
        }

        var tooLarge = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);

        Assert.Equal(0, await server.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        var metrics = File.ReadAllText(Path.Combine(server.Fixture.RunDirectory, "metrics.prom"));
        Assert.Contains("dstar_gradients_dropped_total{worker=\"3\",reason=\"malformed\"} 6", metrics);
        Assert.Contains("dstar_gradients_dropped_total{worker=\"3\",reason=\"duplicate\"} 1", metrics);
        Assert.Contains("dstar_gradients_dropped_total{worker=\"3\",reason=\"stale\"} 1", metrics);
        Assert.Contains("dstar_gradients_kept_total{worker=\"3\"} 1", metrics);
        Assert.Contains("dstar_rounds_total 4", metrics);

        // The monitoring hook (the live view's cluster panel) heard each refusal, told apart finer than the metrics.
        Assert.Equal(
            new Dictionary<string, int>
            {
                ["wrong-size"] = 1, ["non-finite"] = 2, ["not-float32"] = 1, ["future-version"] = 1,
                ["duplicate"] = 1, ["stale-version"] = 1, ["oversized"] = 1,
            }.OrderBy(p => p.Key),
            monitor.GradientRefusals.Where(r => r.Worker == 3).GroupBy(r => r.Reason).Select(g => new KeyValuePair<string, int>(g.Key, g.Count())).OrderBy(p => p.Key));
        Assert.Contains(3, monitor.Joins);
        Assert.Contains(3, monitor.Leaves);
        Assert.Equal(8, monitor.ReceivedCounts[3]); // every message but the oversized one, which gRPC refused before the service saw it
        Assert.Empty(monitor.JoinRefusals);
    }
}

/// <summary>Keeps everything the server tells its monitoring hook.</summary>
internal sealed class RecordingMonitor : Dstar.Cluster.Observability.IClusterMonitor
{
    private readonly object _gate = new();

    public List<int> Joins { get; } = new();

    public List<int> Leaves { get; } = new();

    public int[] ReceivedCounts { get; } = new int[64];

    public List<(string Reason, int? Worker)> JoinRefusals { get; } = new();

    public List<(string Reason, int Worker)> GradientRefusals { get; } = new();

    public void Joined(int worker, string peer)
    {
        lock (_gate)
        {
            Joins.Add(worker);
        }
    }

    public void Left(int worker)
    {
        lock (_gate)
        {
            Leaves.Add(worker);
        }
    }

    public void Received(int worker) => Interlocked.Increment(ref ReceivedCounts[worker]);

    public void JoinRefused(string reason, int? worker, string peer)
    {
        lock (_gate)
        {
            JoinRefusals.Add((reason, worker));
        }
    }

    public void GradientRefused(string reason, int worker)
    {
        lock (_gate)
        {
            GradientRefusals.Add((reason, worker));
        }
    }
}
