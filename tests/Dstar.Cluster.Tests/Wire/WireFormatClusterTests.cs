using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Dstar.Engine.Transport;
using Google.Protobuf;
using Grpc.Core;
using WireFormat = Dstar.Engine.Transport.WireFormat;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>
/// A run with <c>wire: float16</c> on a real server: honest workers train to the end in float16, a gradient that does
/// not fit float16 is refused as malformed (never clipped), bytes that are not whole float16 values or that decode to
/// the wrong count are refused with the reason, and a worker whose config says float32 is refused at the join.
/// </summary>
[Trait("Category", "Cluster")]
public class WireFormatClusterTests
{
    private static readonly string Config = ClusterFixture.Yaml(workers: 4, k: 3, rounds: 4, samples: 400, features: 5, extra: "wire: float16\n");

    [Fact]
    public async Task Float16_gradients_train_and_values_that_do_not_fit_are_refused()
    {
        await using var server = new InProcessServer(Config, computeMilliseconds: 3000);
        await server.ReadyAsync();
        using (var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(0)))
        {
            // A worker whose config encodes float32 does not join a float16 run.
            var float32 = ConfigFingerprint.Of(server.Fixture.Config with { Wire = "float32" }).Values;
            var e = await Assert.ThrowsAsync<RpcException>(() => WorkerConnection.JoinAsync(server.Channel, 0, key, float32, CancellationToken.None));
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("wire: 'float16' ≠ 'float32'", e.Status.Detail);
        }

        using var key3 = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(3));
        using var connection = await WorkerConnection.JoinAsync(server.Channel, 3, key3, server.Contract, CancellationToken.None);
        var d = connection.Welcome.Dimension;
        for (var id = 0; id < 3; id++)
        {
            server.StartHonestWorker(id);
        }

        var call = connection.Call;
        Assert.Equal(0, (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Parameters)).Parameters.Version);

        async Task<Outcome> SendAsync(WorkerRequest request)
        {
            await call.RequestStream.WriteAsync(request);
            return (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Outcome)).Outcome;
        }

        var tooLarge = new float[d];
        tooLarge[4] = 70_000f;
        var cases = new (string Name, WorkerRequest Request, string Reason)[]
        {
            ("overflows float16", WorkerRequest.Gradient(0, tooLarge, WireFormat.Float16), "NaN or ±∞"),
            ("odd byte count", new WorkerMessage { Gradient = new Gradient { Version = 0, Data = ByteString.CopyFrom(new byte[2 * d + 1]) } },
                $"{2 * d + 1} bytes is not a whole number of float16 values (expected {2 * d})"),
            ("float32 bytes", WorkerRequest.Gradient(0, new float[d], WireFormat.Float32), $"length {2 * d}, expected {d}"),
        };
        foreach (var (name, request, reason) in cases)
        {
            var outcome = await SendAsync(request);
            Assert.True(outcome.Kind == OutcomeKind.Rejected, $"{name}: {outcome}");
            Assert.Contains(reason, outcome.Reason);
        }

        // A gradient that fits is accepted and kept.
        await call.RequestStream.WriteAsync(WorkerRequest.Gradient(0, Enumerable.Repeat(0.25f, d).ToArray(), WireFormat.Float16));
        var kept = (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Outcome)).Outcome;
        Assert.Equal((0L, OutcomeKind.Kept), (kept.Version, kept.Kind));
        await call.RequestStream.CompleteAsync();

        Assert.Equal(0, await server.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await server.WaitWorkersAsync());
        var metrics = File.ReadAllText(Path.Combine(server.Fixture.RunDirectory, "metrics.prom"));
        Assert.Contains("dstar_gradients_dropped_total{worker=\"3\",reason=\"malformed\"} 3", metrics);
        Assert.Contains("dstar_rounds_total 4", metrics);
    }
}
