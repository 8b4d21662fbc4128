using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Worker;
using Grpc.Core;

namespace Dstar.Cluster.Tests;

/// <summary>
/// A worker started twice with the same id: the newer session replaces the older (as a reconnect does), and the
/// process whose open session was taken over is told so and stops, instead of rejoining and taking it back for ever.
/// </summary>
[Trait("Category", "Cluster")]
public class DuplicateWorkerTests
{
    [Fact]
    public async Task A_session_replaced_by_a_newer_one_of_its_id_ends_with_aborted_naming_the_newer_peer()
    {
        // k = 1: round 0 starts once one worker has joined, so a session gets x_0 on joining.
        await using var server = new InProcessServer(ClusterFixture.Yaml(workers: 3, k: 1, rounds: 3, samples: 300, features: 5));
        await server.ReadyAsync();
        using var key = WorkerKey.LoadPrivateKey(server.Fixture.KeyPath(1));
        using var first = await WorkerConnection.JoinAsync(server.Channel, 1, key, server.Contract, CancellationToken.None);
        using var second = await WorkerConnection.JoinAsync(server.Channel, 1, key, server.Contract, CancellationToken.None);

        var e = await Assert.ThrowsAsync<RpcException>(() => InProcessServer.NextAsync(first.Call, ServerMessage.BodyOneofCase.Finished));
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
        Assert.StartsWith($"{Dstar.Cluster.Server.ParameterService.ReplacedReason}: worker 1 joined again from ipv4:127.0.0.1:", e.Status.Detail);

        // The newer session is the worker's now: it gets the parameters of the round.
        Assert.Equal(0, (await InProcessServer.NextAsync(second.Call, ServerMessage.BodyOneofCase.Parameters)).Parameters.Version);
    }

    [Fact]
    public async Task A_worker_started_twice_stops_with_exit_code_4_and_the_run_finishes()
    {
        await using var server = new InProcessServer(ClusterFixture.Yaml(workers: 3, k: 2, rounds: 40, samples: 300, features: 5), computeMilliseconds: 50);
        await server.ReadyAsync();
        server.StartHonestWorker(0);
        server.StartHonestWorker(1);
        for (var i = 0; i < 400 && !(await server.MetricsAsync()).Contains("dstar_connected_workers 2", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        // The same id again, while the first is connected: before, each one's join ended the other's session, and
        // both rejoined every 100 ms until the run ended.
        server.StartHonestWorker(1);
        Assert.Equal(0, await server.Task.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(ClusterWorker.RefusedExitCode, await server.WaitWorkersAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        var metrics = File.ReadAllText(Path.Combine(server.Fixture.RunDirectory, "metrics.prom"));
        Assert.Contains("dstar_rounds_total 40", metrics);
    }
}
