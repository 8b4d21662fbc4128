using System.Security.Cryptography;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Google.Protobuf;
using Grpc.Core;

namespace Dstar.Cluster.Tests;

/// <summary>Real gRPC joins against a real server on loopback: only a registered key proving its own id gets in.</summary>
[Trait("Category", "Cluster")]
public class AuthenticationTests
{
    private static readonly string Config = ClusterFixture.Yaml(workers: 3, k: 2, rounds: 3, samples: 300, features: 5);

    [Fact]
    public async Task Unauthenticated_unregistered_impersonating_and_replayed_joins_are_refused_and_counted()
    {
        var monitor = new RecordingMonitor();
        await using var server = new InProcessServer(Config, monitor: monitor);
        await server.ReadyAsync();
        var client = new ParameterService.ParameterServiceClient(server.Channel);

        // Unauthenticated: a gradient before any Hello.
        using (var call = client.Session())
        {
            await call.RequestStream.WriteAsync(new WorkerMessage { Gradient = new Gradient { Version = 0, Data = ByteString.CopyFrom(new byte[24]) } });
            var e = await Assert.ThrowsAsync<RpcException>(() => InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Welcome));
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        }

        // Unregistered: a fresh key for an id that is not in the file.
        using (var stranger = WorkerKey.Generate())
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => WorkerConnection.JoinAsync(server.Channel, 9, stranger, server.Contract, CancellationToken.None));
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains("not in the authorized-keys file", e.Status.Detail);
        }

        // Impersonation: worker 1 claims to be worker 0 and signs with its own key; also an unregistered key for id 0.
        using (var workerOne = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(1)))
        using (var wrongKey = WorkerKey.Generate())
        {
            foreach (var key in new[] { workerOne, wrongKey })
            {
                var e = await Assert.ThrowsAsync<RpcException>(() => WorkerConnection.JoinAsync(server.Channel, 0, key, server.Contract, CancellationToken.None));
                Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
                Assert.Contains("bad-signature", e.Status.Detail);
            }
        }

        // Replay: record a valid proof of worker 2, then send it again on a new stream.
        ByteString recorded;
        using (var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(2)))
        using (var call = client.Session())
        {
            await call.RequestStream.WriteAsync(new WorkerMessage { Hello = server.Hello(2) });
            var challenge = (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Challenge)).Challenge;
            recorded = ByteString.CopyFrom(JoinChallenge.Sign(key, challenge.Nonce.Span, 2, challenge.ServerTimeUnixMs));
            await call.RequestStream.WriteAsync(new WorkerMessage { Proof = new Proof { Signature = recorded } });
            Assert.Equal(2, (await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Welcome)).Welcome.WorkerId);
            await call.RequestStream.CompleteAsync();
        }

        using (var call = client.Session())
        {
            await call.RequestStream.WriteAsync(new WorkerMessage { Hello = server.Hello(2) });
            await InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Challenge);
            await call.RequestStream.WriteAsync(new WorkerMessage { Proof = new Proof { Signature = recorded } });
            var e = await Assert.ThrowsAsync<RpcException>(() => InProcessServer.NextAsync(call, ServerMessage.BodyOneofCase.Welcome));
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        }

        // Garbage on the wire: a gRPC frame whose payload is not a protobuf message. The call fails; the server goes on.
        using (var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            byte[] frame = [0, 0, 0, 0, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
            using var request = new HttpRequestMessage(HttpMethod.Post, server.Fixture.Url + "/dstar.v1.ParameterService/Session")
            {
                Content = new ByteArrayContent(frame),
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
            request.Headers.TryAddWithoutValidation("TE", "trailers");
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.Single()
                : response.Headers.TryGetValues("grpc-status", out var headerValues) ? headerValues.Single() : null;
            Assert.True(status is not null, $"HTTP {(int)response.StatusCode}; headers: {response.Headers}; trailers: {response.TrailingHeaders}; body: {body}");
            Assert.NotEqual("0", status);
        }

        var metrics = await server.MetricsAsync();
        Assert.Contains("dstar_refused_connections_total{reason=\"unauthenticated\"} 1", metrics);
        Assert.Contains("dstar_refused_connections_total{reason=\"unregistered\"} 1", metrics);
        Assert.Contains("dstar_refused_connections_total{reason=\"bad-signature\"} 3", metrics);

        // The monitoring hook heard the same refusals, with the ids they claimed, and the one good join.
        Assert.Equal(
            [("unauthenticated", (int?)null), ("unregistered", 9), ("bad-signature", 0), ("bad-signature", 0), ("bad-signature", 2)],
            monitor.JoinRefusals.Where(r => r.Reason != "malformed"));
        Assert.Equal([2], monitor.Joins);

        // The refusals did no harm: the registered workers still train to the end.
        for (var id = 0; id < 3; id++)
        {
            server.StartHonestWorker(id);
        }

        Assert.Equal(0, await server.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await server.WaitWorkersAsync());
    }

    [Fact]
    public async Task A_worker_whose_config_differs_is_refused_with_the_differing_keys()
    {
        await using var server = new InProcessServer(Config);
        await server.ReadyAsync();
        using (var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(1)))
        {
            var other = ConfigFingerprint.Of(server.Fixture.Config with { Seed = 99, Workers = 4, LearningRate = 0.01 });
            var e = await Assert.ThrowsAsync<RpcException>(() => WorkerConnection.JoinAsync(server.Channel, 1, key, other.Values, CancellationToken.None));
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            // lr is the server's alone, so it may differ; seed and workers may not.
            Assert.EndsWith("differs from the server's on 2 key(s) (server ≠ worker): seed: '1' ≠ '99'; workers: '3' ≠ '4'", e.Status.Detail);

            // A worker that sends no fingerprint at all (an older dstar) is refused the same way.
            var none = await Assert.ThrowsAsync<RpcException>(() => WorkerConnection.JoinAsync(server.Channel, 1, key, new Dictionary<string, string>(), CancellationToken.None));
            Assert.Equal(StatusCode.FailedPrecondition, none.StatusCode);
        }

        // The whole worker: exits with the refused code instead of training on other data.
        var code = await ClusterWorker.RunAsync(new WorkerSettings
        {
            Server = server.Fixture.Url,
            WorkerId = 2,
            KeyPath = server.Fixture.KeyPath(2),
            Config = server.Fixture.Config with { Seed = 5 },
            RealTime = new RealTimeOptions { DelayScale = 0 },
            RetryFor = TimeSpan.FromSeconds(20),
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(ClusterWorker.RefusedExitCode, code);
        Assert.Contains("dstar_refused_connections_total{reason=\"config-mismatch\"} 3", await server.MetricsAsync());
    }
}
